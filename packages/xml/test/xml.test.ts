import { describe, expect, it } from 'vitest';
import { Element, Parser, XMLError, escapeXML, escapeXMLText, parse, unescapeXML, xml } from '@xmppkit/xml';

function collect(parser: Parser) {
  const out: { start: Element[]; elements: Element[]; end: number; errors: XMLError[] } = { start: [], elements: [], end: 0, errors: [] };
  parser.on('start', (el) => out.start.push(el));
  parser.on('element', (el) => out.elements.push(el));
  parser.on('end', () => out.end++);
  parser.on('error', (err) => out.errors.push(err));
  return out;
}

describe('xml()', () => {
  it('builds elements with attributes and children', () => {
    const el = xml('message', { to: 'a@b', id: 1, skip: null, gone: undefined }, xml('body', {}, 'hi & bye'), null, false, '', [xml('x', 'urn:x')]);
    expect(el).toBeInstanceOf(Element);
    expect(el.attrs).toEqual({ to: 'a@b', id: '1' });
    expect(el.getChildText('body')).toBe('hi & bye');
    expect(el.getChild('x', 'urn:x')?.name).toBe('x');
    expect(el.toString()).toBe('<message to="a@b" id="1"><body>hi &amp; bye</body><x xmlns="urn:x"/></message>');
  });

  it('takes a namespace string as second argument', () => {
    expect(xml('ping', 'urn:xmpp:ping').attrs.xmlns).toBe('urn:xmpp:ping');
  });

  it('sets parent on appended elements', () => {
    const child = xml('c');
    const parent = xml('p', {}, child);
    expect(child.parent).toBe(parent);
  });
});

describe('escaping', () => {
  it('escapes and unescapes', () => {
    expect(escapeXML(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
    expect(escapeXMLText('a < b & c > d "q"')).toBe('a &lt; b &amp; c &gt; d "q"');
    expect(unescapeXML('&lt;&gt;&amp;&quot;&apos;&#65;&#x1F600;')).toBe(`<>&"'A😀`);
  });

  it('refuses unknown entities and bare ampersands', () => {
    expect(() => unescapeXML('&nbsp;')).toThrow(XMLError);
    expect(() => unescapeXML('a & b')).toThrow(/unescaped/);
    expect(() => unescapeXML('&#0;')).toThrow(XMLError);
  });
});

describe('parse()', () => {
  it('parses one element', () => {
    const el = parse(`<iq type='result' id="1"><query xmlns='jabber:iq:roster'><item jid='a@b'/></query></iq>`);
    expect(el.attrs).toEqual({ type: 'result', id: '1' });
    expect(el.getChild('query', 'jabber:iq:roster')?.getChild('item')?.attrs.jid).toBe('a@b');
  });

  it('throws on malformed input', () => {
    expect(() => parse('<a><b></a>')).toThrow(/unexpected closing tag/);
    expect(() => parse('<a>')).toThrow(XMLError);
    expect(() => parse('<a x="1" x="2"/>')).toThrow(/duplicate attribute/);
    expect(() => parse('<a x=1/>')).toThrow(/malformed attributes/);
  });

  it('reads attributes in either quote, with spaces around =, and refuses the malformed ones', () => {
    const el = parse(`<a  one = "1" two='2'\n\tthree="it's" four='say "hi"' five="&lt;&amp;&#x41;" six=""/>`);
    expect(el.attrs).toEqual({ one: '1', two: '2', three: "it's", four: 'say "hi"', five: '<&A', six: '' });
    for (const bad of ['<a x/>', '<a x="1/>', '<a ="1"/>', '<a x=="1"/>', '<a x="<"/>', `<a x='1"/>`, '<a x="1" y/>']) {
      expect(() => parse(bad), bad).toThrow(XMLError);
    }
    expect(() => parse('<a x="\u0001"/>')).toThrow(/invalid character/);
    // only XML whitespace separates attributes; anything else is part of a (then invalid) name
    for (const bad of ['<a x="1"\u00A0y="2"/>', '<a 1x="1"/>']) expect(() => parse(bad), JSON.stringify(bad)).toThrow(/malformed attributes/);
    // \x0B and \x0C are not XML characters at all: refused wherever they appear
    for (const bad of ["<a \x0C='1'/>", "<a \x0B='1'/>"]) expect(() => parse(bad), JSON.stringify(bad)).toThrow(/invalid character/);
    expect(() => parse('<a x="&foo;"/>')).toThrow(/undefined entity/);
  });
});

describe('Parser (stream mode)', () => {
  const stream = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`;

  it('emits start, elements and end', () => {
    const parser = new Parser();
    const out = collect(parser);
    parser.write(`${stream}<message to='a@b'><body>hi</body></message> \n <presence/></stream:stream>`);
    expect(out.start[0]?.attrs.to).toBe('localhost');
    expect(out.elements.map((e) => e.name)).toEqual(['message', 'presence']);
    expect(out.elements[0]?.parent).toBeNull();
    expect(out.end).toBe(1);
    expect(out.errors).toEqual([]);
  });

  it('handles any chunking, one character at a time', () => {
    const input = `${stream}<message a="x&gt;y" b='>'><body>caf\u00e9 &amp; \u{1F600}<![CDATA[<raw>]]></body></message></stream:stream>`;
    const parser = new Parser();
    const out = collect(parser);
    for (const ch of input) parser.write(ch);
    expect(out.errors).toEqual([]);
    expect(out.elements).toHaveLength(1);
    expect(out.elements[0]?.attrs).toEqual({ a: 'x>y', b: '>' });
    expect(out.elements[0]?.getChildText('body')).toBe('caf\u00e9 & \u{1F600}<raw>');
    expect(out.end).toBe(1);
  });

  it('decodes a multi-byte UTF-8 character split across byte chunks', () => {
    const bytes = new TextEncoder().encode(`${stream}<message><body>\u00e9\u20ac\u{1F600}</body></message>`);
    const parser = new Parser();
    const out = collect(parser);
    for (let i = 0; i < bytes.length; i++) parser.write(bytes.subarray(i, i + 1));
    expect(out.errors).toEqual([]);
    expect(out.elements[0]?.getChildText('body')).toBe('\u00e9\u20ac\u{1F600}');
  });

  it('rejects invalid UTF-8 bytes with bad-format', () => {
    const parser = new Parser();
    const out = collect(parser);
    parser.write(new TextEncoder().encode(stream));
    parser.write(new Uint8Array([0x3c, 0x61, 0x3e, 0xff, 0xfe]));
    expect(out.errors[0]?.condition).toBe('bad-format');
  });

  it.each([
    ['<a><b></a>', 'bad-format'],
    ['<message>text</message>junk', 'bad-format'],
    ['<a b="<"/>', 'bad-format'],
    ['<!-- comment --><a/>', 'restricted-xml'],
    ['<!DOCTYPE foo [<!ENTITY x "y">]><a/>', 'restricted-xml'],
    ['<?php echo 1 ?>', 'restricted-xml'],
    ['<a>&xxe;</a>', 'restricted-xml'],
    ['<a>\u0001</a>', 'bad-format'],
    ['<1a/>', 'bad-format'],
    ['</stream:stream><a/>', 'bad-format'],
  ])('refuses %s with %s', (input, condition) => {
    const parser = new Parser();
    const out = collect(parser);
    parser.write(stream + input);
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toBeInstanceOf(XMLError);
    expect(out.errors[0]?.condition).toBe(condition);
    // After an error, input is ignored and nothing throws.
    parser.write('<more/>');
    expect(out.errors).toHaveLength(1);
  });

  it('waits for a start tag split across writes, quotes and all, and still refuses a stray "<" in it', () => {
    const parser = new Parser();
    const out = collect(parser);
    parser.write(stream);
    for (const chunk of [`<message a='1' b='>`, ` x`, `' c="2`, `"`, ` d='x'`, `>`, `</message>`]) parser.write(chunk);
    expect(out.errors).toEqual([]);
    expect(out.elements[0]?.attrs).toEqual({ a: '1', b: '> x', c: '2', d: 'x' });
    parser.write(`<message a='1'`);
    parser.write(` <b>`);
    expect(out.errors.map((e) => e.condition)).toEqual(['bad-format']);
  });

  it('refuses characters XML does not allow anywhere, and attributes not separated by whitespace', () => {
    for (const bad of ['<a\u0001b/>', '<a x="1"y="2"/>']) expect(() => parse(bad), JSON.stringify(bad)).toThrow(XMLError);
  });

  it('refuses a stanza larger than maxStanzaSize with policy-violation, even when it never ends', () => {
    const parser = new Parser({ maxStanzaSize: 1000 });
    const out = collect(parser);
    parser.write(stream);
    parser.write('<message><body>');
    for (let i = 0; i < 20 && out.errors.length === 0; i++) parser.write('x'.repeat(100));
    expect(out.errors[0]?.condition).toBe('policy-violation');
    expect(out.elements).toEqual([]);
  });

  it('refuses an endless start tag with policy-violation', () => {
    const parser = new Parser({ maxStanzaSize: 1000 });
    const out = collect(parser);
    parser.write(stream + '<message a="');
    for (let i = 0; i < 20 && out.errors.length === 0; i++) parser.write('y'.repeat(100));
    expect(out.errors[0]?.condition).toBe('policy-violation');
  });

  it('accepts many stanzas whose total exceeds the limit', () => {
    const parser = new Parser({ maxStanzaSize: 200 });
    const out = collect(parser);
    parser.write(stream);
    const stanza = `<message><body>${'z'.repeat(100)}</body></message>`;
    parser.write(stanza.repeat(50));
    expect(out.errors).toEqual([]);
    expect(out.elements).toHaveLength(50);
  });

  it('refuses deep nesting', () => {
    const parser = new Parser({ maxDepth: 10 });
    const out = collect(parser);
    parser.write(stream + '<a>'.repeat(20));
    expect(out.errors[0]?.condition).toBe('policy-violation');
  });

  it('reset() starts over for a stream restart', () => {
    const parser = new Parser();
    const out = collect(parser);
    parser.write(stream + '<a/>');
    parser.reset();
    parser.write(stream + '<b/>');
    expect(out.start).toHaveLength(2);
    expect(out.elements.map((e) => e.name)).toEqual(['a', 'b']);
  });
});

describe('Parser (fragments mode)', () => {
  it('emits every top-level element and tolerates whitespace between them', () => {
    const parser = new Parser({ mode: 'fragments' });
    const out = collect(parser);
    parser.write(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="x"/>`);
    parser.write(' \r\n');
    parser.write(`<message xmlns="jabber:client"><body>1</body></message>`);
    expect(out.errors).toEqual([]);
    expect(out.elements.map((e) => e.name)).toEqual(['open', 'message']);
    expect(out.elements[1]?.is('message', 'jabber:client')).toBe(true);
  });
});

describe('serialisation', () => {
  it('gives exactly what ltx gives, for escaping, empty elements, numbers and foreign children', async () => {
    const ltx = (await import('ltx')) as unknown as { Element: new (name: string, attrs?: Record<string, unknown>) => { toString(): string; c(name: string, attrs?: Record<string, unknown>): unknown; t(text: string): unknown } };
    const foreign = new ltx.Element('foreign', { a: '1' });
    foreign.t('x<y');
    const el = xml('a', { q: `"'<>&`, n: 5, skip: null }, 'x', xml('b'), `t&<>"'`, xml('c', { n: 1 }, xml('d', {}, '')), 7);
    el.children.push(foreign as unknown as Element);
    el.attrs.u = undefined;
    const expected = `<a q="&quot;&apos;&lt;&gt;&amp;" n="5">x<b/>t&amp;&lt;&gt;"'<c n="1"><d/></c>7<foreign a="1">x&lt;y</foreign></a>`;
    expect(el.toString()).toBe(expected);
    expect(ltx.Element.prototype.toString.call(el)).toBe(expected);
    expect(parse(expected).toString()).toBe(expected); // and it parses back to itself
  });
});

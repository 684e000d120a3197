import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_STANZA_SIZE, Element, Parser, XMLError, parse, xml } from '@xmppkit/xml';

const STREAM = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='example.com' version='1.0'>`;

function collect(parser: Parser) {
  const out = { elements: [] as Element[], errors: [] as XMLError[], starts: 0, ends: 0 };
  parser.on('element', (el) => out.elements.push(el));
  parser.on('error', (err) => out.errors.push(err));
  parser.on('start', () => out.starts++);
  parser.on('end', () => out.ends++);
  return out;
}

describe('Parser options', () => {
  it('defaults to stream mode, 1 MiB stanzas and depth 64', () => {
    const parser = new Parser();
    expect(parser.mode).toBe('stream');
    expect(parser.maxStanzaSize).toBe(DEFAULT_MAX_STANZA_SIZE);
    expect(DEFAULT_MAX_STANZA_SIZE).toBe(1024 * 1024);
    expect(parser.maxDepth).toBe(64);
  });

  it('accepts a stanza of exactly maxStanzaSize characters and refuses one more', () => {
    const exact = new Parser({ mode: 'fragments', maxStanzaSize: 10 });
    const ok = collect(exact);
    exact.write('<a>123</a>'); // 10 characters
    expect(ok.errors).toEqual([]);
    expect(ok.elements.map((e) => e.toString())).toEqual(['<a>123</a>']);

    const over = new Parser({ mode: 'fragments', maxStanzaSize: 10 });
    const bad = collect(over);
    over.write('<a>1234</a>'); // 11 characters
    expect(bad.elements).toEqual([]);
    expect(bad.errors).toHaveLength(1);
    expect(bad.errors[0]?.condition).toBe('policy-violation');
  });

  it('measures each stanza on its own, however the chunks fall', () => {
    const parser = new Parser({ mode: 'fragments', maxStanzaSize: 10 });
    const out = collect(parser);
    parser.write('<a>123</a><b>1');
    parser.write('23</b>');
    parser.write(' <c>12');
    parser.write('3</c>');
    expect(out.errors).toEqual([]);
    expect(out.elements.map((e) => e.name)).toEqual(['a', 'b', 'c']);
  });

  it('counts characters, not bytes', () => {
    const parser = new Parser({ mode: 'fragments', maxStanzaSize: 10 });
    const out = collect(parser);
    parser.write(new TextEncoder().encode('<a>\u20ac\u20ac\u20ac</a>')); // 10 characters, 16 bytes
    expect(out.errors).toEqual([]);
    expect(out.elements[0]?.text()).toBe('\u20ac\u20ac\u20ac');
  });

  it('does not count the stream header against maxStanzaSize', () => {
    const parser = new Parser({ maxStanzaSize: 20 });
    const out = collect(parser);
    parser.write(STREAM);
    parser.write('<message/>');
    expect(out.errors).toEqual([]);
    expect(out.starts).toBe(1);
    expect(out.elements).toHaveLength(1);
  });

  it('maxDepth counts the stanza itself as level 1 (fragments mode)', () => {
    const ok = new Parser({ mode: 'fragments', maxDepth: 3 });
    const good = collect(ok);
    ok.write('<a><b><c/></b></a>');
    expect(good.errors).toEqual([]);
    expect(good.elements).toHaveLength(1);

    const deep = new Parser({ mode: 'fragments', maxDepth: 3 });
    const bad = collect(deep);
    deep.write('<a><b><c><d/></c></b></a>');
    expect(bad.elements).toEqual([]);
    expect(bad.errors[0]?.condition).toBe('policy-violation');
  });

  it('maxDepth does not count the stream root (stream mode)', () => {
    const ok = new Parser({ maxDepth: 2 });
    const good = collect(ok);
    ok.write(`${STREAM}<message><body>hi</body></message>`);
    expect(good.errors).toEqual([]);
    expect(good.elements).toHaveLength(1);

    const deep = new Parser({ maxDepth: 2 });
    const bad = collect(deep);
    deep.write(`${STREAM}<message><x><y/></x></message>`);
    expect(bad.errors[0]?.condition).toBe('policy-violation');
  });

  it('fragments mode emits <open/> and <close/> as elements, and never start or end', () => {
    const parser = new Parser({ mode: 'fragments' });
    const out = collect(parser);
    parser.write(`<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' version='1.0'/><message/><close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>`);
    expect(out.elements.map((e) => e.name)).toEqual(['open', 'message', 'close']);
    expect(out.starts).toBe(0);
    expect(out.ends).toBe(0);
  });

  it('emits stanzas detached from the stream root', () => {
    const parser = new Parser();
    const out = collect(parser);
    parser.write(`${STREAM}<message><body>hi</body></message>`);
    expect(out.elements[0]?.parent).toBeNull();
    expect(out.elements[0]?.getChild('body')?.parent).toBe(out.elements[0]);
  });
});

describe('Parser errors', () => {
  it('emits XMLError (never throws) and ignores input afterwards', () => {
    const parser = new Parser({ mode: 'fragments' });
    const out = collect(parser);
    expect(() => parser.write('<a></b>')).not.toThrow();
    expect(out.errors).toHaveLength(1);
    const err = out.errors[0] as XMLError;
    expect(err).toBeInstanceOf(XMLError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('XMLError');
    expect(err.condition).toBe('bad-format');
    parser.write('<ok/>');
    expect(out.elements).toEqual([]);
    expect(out.errors).toHaveLength(1);
  });

  it('parses again after reset() following an error', () => {
    const parser = new Parser({ mode: 'fragments' });
    const out = collect(parser);
    parser.write('<!-- no -->');
    expect(out.errors[0]?.condition).toBe('restricted-xml');
    parser.reset();
    parser.write('<ok/>');
    expect(out.elements.map((e) => e.name)).toEqual(['ok']);
    expect(out.errors).toHaveLength(1);
  });

  it.each([
    ['<a>&nbsp;</a>', 'restricted-xml'],
    ['<a><?pi x?></a>', 'restricted-xml'],
    ['<a>a & b</a>', 'bad-format'],
    ['<a x="1" x="2"/>', 'bad-format'],
    ['<a x=1/>', 'bad-format'],
    ['text<a/>', 'bad-format'],
  ])('fragments mode refuses %s with %s', (input, condition) => {
    const parser = new Parser({ mode: 'fragments' });
    const out = collect(parser);
    parser.write(input);
    expect(out.errors.map((e) => e.condition)).toEqual([condition]);
  });
});

describe('parse()', () => {
  it('accepts surrounding whitespace and an XML declaration', () => {
    expect(parse('  <a/>\n').name).toBe('a');
    expect(parse(`<?xml version='1.0'?><a x='1'/>`).attrs).toEqual({ x: '1' });
  });

  it.each([
    ['', 'bad-format'],
    ['<a/><b/>', 'bad-format'],
    ['<a/>x', 'bad-format'],
    ['text', 'bad-format'],
    ['<a>', 'bad-format'],
    ['<a/><!-- c -->', 'restricted-xml'],
  ])('throws XMLError for %j (%s)', (input, condition) => {
    let caught: unknown;
    try {
      parse(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(XMLError);
    expect((caught as XMLError).condition).toBe(condition);
  });

  it('parses a stanza larger than the default limit (parse() has no size limit of its own)', () => {
    const body = 'x'.repeat(DEFAULT_MAX_STANZA_SIZE + 10);
    expect(parse(`<message><body>${body}</body></message>`).getChildText('body')).toHaveLength(body.length);
  });
});

describe('Element and xml()', () => {
  it('appendChild returns the child, sets its parent and accepts text', () => {
    const parent = new Element('message');
    const body = parent.appendChild(xml('body'));
    expect(body.parent).toBe(parent);
    expect(body.appendChild('hi')).toBe('hi');
    expect(parent.toString()).toBe('<message><body>hi</body></message>');
  });

  it('stringifies numbers and booleans, drops null and undefined attributes', () => {
    const el = xml('a', { n: 0, t: true, f: false, nul: null, undef: undefined });
    expect(el.attrs).toEqual({ n: '0', t: 'true', f: 'false' });
    el.attrs.later = undefined;
    expect(el.toString()).toBe('<a n="0" t="true" f="false"/>');
  });

  it('flattens nested child arrays and skips null, undefined, booleans and empty strings', () => {
    const show = false;
    const el = xml('a', null, 1, show && xml('hidden'), [xml('b'), ['c', [null, undefined, '']]], true);
    expect(el.toString()).toBe('<a>1<b/>c</a>');
  });

  it('escapes attribute values and text when serialising, and parse() reverses it', () => {
    const el = xml('a', { q: `"it's" <&>` }, `1 < 2 & 3 > 2`);
    const back = parse(el.toString());
    expect(back.attrs.q).toBe(`"it's" <&>`);
    expect(back.text()).toBe('1 < 2 & 3 > 2');
  });
});

describe('whitespace keepalives', () => {
  it('never count toward maxStanzaSize', () => {
    const parser = new Parser({ maxStanzaSize: 100 });
    const errors: unknown[] = [];
    parser.on('error', (e) => errors.push(e));
    parser.write(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`);
    for (let i = 0; i < 500; i++) parser.write(' ');
    expect(errors).toEqual([]);
  });
});

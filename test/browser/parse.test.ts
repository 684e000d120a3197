/**
 * parse() of the browser bundle (packages/client/dist/xmppkit.min.js), which runs on DOMParser, in real
 * headless Chromium, compared input by input with the Node build's parse(), which runs on the streaming
 * Parser: the same XMLError condition for everything refused, the same elements for everything accepted.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { XMLError, parse, type Element } from '@xmppkit/xml';
import { bundle, useBrowser } from '../support/browser.js';
import { prosody } from '../setup/servers.js';

/** An element as plain data: attributes sorted (their order carries no meaning in XML). */
type Tree = { name: string; attrs: [string, string][]; children: (string | Tree)[] };
/** `tree` is JSON: deep trees are more than page.evaluate() can return as objects */
type Outcome = { condition: string } | { xml: string; tree: string };

const nested = (depth: number): string => '<a>'.repeat(depth) + '</a>'.repeat(depth);

// Refused input, with the condition both builds must give.
const REFUSED: [string, string][] = [
  // RFC 6120 section 11: no DTD, comment, processing instruction or entity other than the predefined ones
  ['<!DOCTYPE a><a/>', 'restricted-xml'],
  ['<!DOCTYPE foo [<!ENTITY x "y">]><a>&x;</a>', 'restricted-xml'],
  ['<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><a>&xxe;</a>', 'restricted-xml'],
  ['<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><a>&lol2;</a>', 'restricted-xml'],
  ['<a><!DOCTYPE a></a>', 'restricted-xml'],
  ['<!-- comment --><a/>', 'restricted-xml'],
  ['<a/><!-- c -->', 'restricted-xml'],
  ['<a><!-- c --></a>', 'restricted-xml'],
  ['<a><![CDATA[x]]><!-- after a CDATA section --></a>', 'restricted-xml'],
  ['<a><?pi x?></a>', 'restricted-xml'],
  ['<?php echo 1 ?>', 'restricted-xml'],
  ['<?xml-stylesheet href="x"?><a/>', 'restricted-xml'],
  ['<a>&nbsp;</a>', 'restricted-xml'],
  ['<a>&xxe;</a>', 'restricted-xml'],
  ['<a>&foo;</a>', 'restricted-xml'],
  ['<a x="&foo;"/>', 'restricted-xml'],
  ['<a>&AMP;</a>', 'restricted-xml'],
  // malformed
  ['', 'bad-format'],
  ['text', 'bad-format'],
  ['<a/><b/>', 'bad-format'],
  ['<a/>x', 'bad-format'],
  ['x<a/>', 'bad-format'],
  ['<a>', 'bad-format'],
  ['<a', 'bad-format'],
  ['</a>', 'bad-format'],
  ['<a><b></a>', 'bad-format'],
  ['<a></b>', 'bad-format'],
  ['<message>text</message>junk', 'bad-format'],
  ['<a x="1" x="2"/>', 'bad-format'],
  ['<a x=1/>', 'bad-format'],
  ['<a b="<"/>', 'bad-format'],
  ['<a x="1"y="2"/>', 'bad-format'],
  ['<a x="1"\u00A0y="2"/>', 'bad-format'],
  ["<a \x0C='1'/>", 'bad-format'],
  ['<1a/>', 'bad-format'],
  ['<a\u0001b/>', 'bad-format'],
  ['<a>\u0001</a>', 'bad-format'],
  ['<a x="\u0001"/>', 'bad-format'],
  ['<a>\uFFFE</a>', 'bad-format'],
  ['<a>a & b</a>', 'bad-format'],
  ['<a>&#0;</a>', 'bad-format'],
  ['<a>&#xD800;</a>', 'bad-format'],
  ['<a>&#x110000;</a>', 'bad-format'],
  // character references longer than the Node parser reads, leading zeros included
  ['<a>&#00000065;</a>', 'bad-format'],
  ['<a>&#x0000041;</a>', 'bad-format'],
  ['<![CDATA[x]]><a/>', 'bad-format'],
  ['<![CDATA[ ]]><a/>', 'bad-format'],
  ['<a><![CDATA[never closed</a>', 'bad-format'],
  // frames that try to step out of the browser build's wrapper, or to fake its error report
  ['</w><w><x/>', 'bad-format'],
  ['<a/></w><w>', 'bad-format'],
  ['<x/><a/>', 'bad-format'],
  ['<a/>&', 'bad-format'],
  ['&', 'bad-format'],
  ['<', 'bad-format'],
  ['<parsererror xmlns="http://www.w3.org/1999/xhtml"/><x/>', 'bad-format'],
  // too deep: the element itself is level 1, 64 levels are accepted (see ACCEPTED)
  [nested(65), 'policy-violation'],
  [nested(3000), 'policy-violation'],
];

// Accepted input: both builds give the same element and the same toString(). Namespace declarations
// come first in each start tag, as servers write them (see the test on attribute order below).
const ACCEPTED: string[] = [
  `<message xmlns='jabber:client' to='bob@localhost' type='chat' id='m1'><body>hello</body></message>`,
  `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
  `<iq xmlns='jabber:client' xmlns:x='urn:x' type='result' id='1' x:attr='v'><x:query><x:item jid='a@b'/><item xmlns='urn:y'/></x:query></iq>`,
  `<message xmlns='jabber:client' xml:lang='en'><body xml:lang='de'>hallo</body></message>`,
  `<a>one <![CDATA[<b>two</b> & ]]>three<![CDATA[]]><![CDATA[four]]></a>`,
  `<a><![CDATA[<!-- not a comment --> <?not a pi?> <!DOCTYPE no> &foo; ]]]></a>`,
  `<a><![CDATA[]]></a>`,
  `<a q="&quot;it&apos;s&quot; &lt;&amp;&gt;">1 &lt; 2 &amp; 3 &gt; 2, ]]&gt; &#65;&#x42;&#x1F600;</a>`,
  `<a one="it's" two='say "hi"' three="" four='&#x20;'/>`,
  `<body>Grüße — 你好 😀 \u{10FFFF}</body>`,
  '<a/>',
  '<a></a>',
  '<a> <b/>\n<c> </c> </a>',
  "<?xml version='1.0'?>\n<a x='1'/>\n",
  '  <a/>\n',
  `<parsererror xmlns='http://www.w3.org/1999/xhtml'><h3>a stanza may use this name</h3></parsererror>`,
  `<message xmlns='jabber:client'><parsererror/><body>hi</body></message>`,
  '<x><w/></x>',
  nested(64),
];

function tree(el: Element): Tree {
  return {
    name: el.name,
    attrs: Object.entries(el.attrs as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1)),
    children: el.children.map((c) => (typeof c === 'string' ? c : tree(c))),
  };
}

function inNode(input: string): Outcome {
  try {
    const el = parse(input);
    return { xml: el.toString(), tree: JSON.stringify(tree(el)) };
  } catch (err) {
    if (!(err instanceof XMLError)) throw err;
    return { condition: err.condition };
  }
}

/** parse() of the bundle in the page, for each input. Also checks `parent` links and `instanceof`. */
function inBrowser(page: Page, inputs: string[]): Promise<Outcome[]> {
  return page.evaluate((inputs) => {
    const { parse, XMLError, Element } = (globalThis as unknown as { xmppkit: typeof import('@xmppkit/client') }).xmppkit;
    const tree = (el: Element, parent: Element | null): Tree => {
      if (!(el instanceof Element) || el.parent !== parent) throw new Error(`${el.name}: not an Element, or a wrong parent`);
      return {
        name: el.name,
        attrs: Object.entries(el.attrs as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1)),
        children: el.children.map((c) => (typeof c === 'string' ? c : tree(c, el))),
      };
    };
    return inputs.map((input): Outcome => {
      try {
        const el = parse(input);
        return { xml: el.toString(), tree: JSON.stringify(tree(el, null)) };
      } catch (err) {
        if (!(err instanceof XMLError)) throw err;
        return { condition: err.condition };
      }
    });
  }, inputs);
}

// a page on http://127.0.0.1, a secure context: the login below needs WebCrypto
const chromium = useBrowser({ title: 'parse' });
let page: Page;
let pageErrors: string[];

beforeAll(async () => {
  ({ page, errors: pageErrors } = await chromium.open());
});

describe('parse() in Chromium (DOMParser) and in Node (the streaming Parser)', () => {
  it('the bundle leaves the streaming parser and unescapeXML out', () => {
    const code = readFileSync(bundle, 'utf8');
    expect(code).toContain('DOMParser');
    for (const text of ['text outside of an element', 'processing instructions are not allowed', 'unescaped "&"']) expect(code).not.toContain(text);
  });

  it('refuses the same input with the same condition', async () => {
    const inputs = REFUSED.map(([input]) => input);
    const node = inputs.map(inNode);
    const chromium = await inBrowser(page, inputs);
    REFUSED.forEach(([input, condition], i) => {
      const label = JSON.stringify(input.slice(0, 80));
      expect(node[i], `Node ${label}`).toEqual({ condition });
      expect(chromium[i], `Chromium ${label}`).toEqual({ condition });
    });
  });

  it('accepts the same input as the same elements, with the same toString()', async () => {
    const node = ACCEPTED.map(inNode);
    const chromium = await inBrowser(page, ACCEPTED);
    ACCEPTED.forEach((input, i) => {
      expect(node[i], JSON.stringify(input.slice(0, 80))).toHaveProperty('xml');
      expect(chromium[i], JSON.stringify(input.slice(0, 80))).toEqual(node[i]);
    });
  });

  it('refuses what RFC 6120 forbids before DOMParser sees it', async () => {
    const calls = await page.evaluate((inputs) => {
      const { parse } = (globalThis as unknown as { xmppkit: typeof import('@xmppkit/client') }).xmppkit;
      const original = DOMParser.prototype.parseFromString;
      let count = 0;
      DOMParser.prototype.parseFromString = function (this: DOMParser, ...args: Parameters<DOMParser['parseFromString']>) {
        count++;
        return original.apply(this, args);
      };
      try {
        for (const input of inputs) {
          try {
            parse(input);
          } catch {
            // refused, as expected
          }
        }
        parse('<a/>');
        return count;
      } finally {
        DOMParser.prototype.parseFromString = original;
      }
    }, REFUSED.filter(([, condition]) => condition === 'restricted-xml').map(([input]) => input));
    expect(calls).toBe(1); // only the valid '<a/>'
  });

  it('keeps every attribute; namespace declarations come first in Chromium (attribute order has no meaning in XML)', async () => {
    const input = `<message to='bob@localhost' xmlns='jabber:client' id='1' xmlns:x='urn:x' x:a='2'/>`;
    const [chromium] = await inBrowser(page, [input]);
    const node = inNode(input);
    expect(chromium).toHaveProperty('tree', (node as { tree: string }).tree);
    expect(chromium).toHaveProperty('xml', `<message xmlns="jabber:client" xmlns:x="urn:x" to="bob@localhost" id="1" x:a="2"/>`);
  });

  it('where XML is stricter than the streaming parser, or normalises, Chromium follows XML (see packages/xml/README.md)', async () => {
    const lax = ['<p:a/>', '<a!b/>', '<a>]]></a>', '<a xmlns:p=""/>'];
    for (const input of lax) expect(inNode(input), input).toHaveProperty('xml');
    expect(await inBrowser(page, lax)).toEqual(lax.map(() => ({ condition: 'bad-format' })));
    const [normalised] = await inBrowser(page, ['<a x="1&#9;2\t3\n4\r\n5">l1\r\nl2\rl3</a>']);
    expect(normalised).toHaveProperty('xml', '<a x="1\t2 3 4 5">l1\nl2\nl3</a>');
  });
});

describe('the WebSocket transport in Chromium parses frames with DOMParser', () => {
  it('logs in and receives a message it sent to itself', async () => {
    const server = prosody();
    const result = await page.evaluate(
      async (opts) => {
        const { client, xml } = (globalThis as unknown as { xmppkit: typeof import('@xmppkit/client') }).xmppkit;
        const xmpp = client(opts);
        const errors: string[] = [];
        xmpp.on('error', (err) => errors.push(String(err)));
        const jid = await xmpp.start();
        const received = new Promise<string>((resolve) => xmpp.on('stanza', (s) => s.is('message') && resolve(s.getChildText('body') ?? '')));
        await xmpp.send(xml('message', { to: jid.toString(), type: 'chat' }, xml('body', {}, 'a < b & "c" — 😀')));
        const body = await received;
        await xmpp.stop();
        return { body, errors };
      },
      { service: server.service, domain: server.domain, username: 'alice', password: server.accounts.alice, resource: 'parse' },
    );
    expect(result).toEqual({ body: 'a < b & "c" — 😀', errors: [] });
    expect(pageErrors).toEqual([]);
  });
});

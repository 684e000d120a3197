import { afterEach, describe, expect, it, vi } from 'vitest';
import * as node from '../src/index.js';
import * as browser from '../src/browser.js';
import { parse as parseDOM } from '../src/parseDOM.js';
import { XMLError, parse } from '@xmppkit/xml';

function condition(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof XMLError) return err.condition;
    throw err;
  }
  return undefined;
}

describe('parse() in Node: one streaming parser for every call', () => {
  it('starts clean after a text that failed or left something unfinished', () => {
    for (const unfinished of ['<a>', '<a><b x="', '<a/><b', '<a><![CDATA[x', '<a></b>', '<!-- x -->', '<a x=1/>']) {
      expect(condition(() => parse(unfinished)), unfinished).toMatch(/bad-format|restricted-xml/);
      expect(parse('<c>1</c>').toString()).toBe('<c>1</c>');
      expect(condition(() => parse('</a>'))).toBe('bad-format');
    }
  });

  it('returns a new element each time, detached', () => {
    const a = parse('<a><b/></a>');
    const b = parse('<a><b/></a>');
    expect(a).not.toBe(b);
    expect(a.parent).toBeNull();
    expect(a.getChild('b')?.parent).toBe(a);
  });
});

describe('the browser entry', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('exports the same names as the Node entry; only parse() differs', () => {
    expect(Object.keys(browser).sort()).toEqual(Object.keys(node).sort());
    for (const name of Object.keys(node) as (keyof typeof node)[]) {
      if (name === 'parse') expect(browser.parse).toBe(parseDOM);
      else expect(browser[name], name).toBe(node[name]);
    }
  });

  /** A DOMParser that records what it is given and stops there (Node has none; Chromium runs the real one in test/browser/parse.test.ts). */
  function stubDOMParser(): string[] {
    const seen: string[] = [];
    vi.stubGlobal(
      'DOMParser',
      class {
        parseFromString(text: string): never {
          seen.push(text);
          throw new Error('reached DOMParser');
        }
      },
    );
    return seen;
  }

  it.each([
    '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
    '<a><!-- c --></a>',
    '<a><?pi?></a>',
    '<?xml-stylesheet?><a/>',
    '<a>&nbsp;</a>',
    '<a x="&foo;"/>',
    '<a><![CDATA[x]]><!-- c --></a>',
  ])('refuses %j with restricted-xml before DOMParser runs', (input) => {
    const seen = stubDOMParser();
    expect(condition(() => parseDOM(input))).toBe('restricted-xml');
    expect(seen).toEqual([]);
  });

  it.each([
    ['<a><![CDATA[<!-- x --> <?y?> &foo;]]></a>', '<w><x/><a><![CDATA[<!-- x --> <?y?> &foo;]]></a></w>'],
    ['<a><![CDATA[no end <!-- x -->', '<w><x/><a><![CDATA[no end <!-- x --></w>'],
    ['<a>&amp;&lt;&gt;&quot;&apos;&#65;&#x42;&abcdef;</a>', '<w><x/><a>&amp;&lt;&gt;&quot;&apos;&#65;&#x42;&abcdef;</a></w>'],
    [` \n<?xml version='1.0' encoding='UTF-8'?><a/>`, '<w><x/><a/></w>'],
    ['<?xml?><a/>', '<w><x/><a/></w>'],
  ])('hands %j, which passes the restricted-xml pre-check, to DOMParser, wrapped', (input, wrapped) => {
    const seen = stubDOMParser();
    expect(() => parseDOM(input)).toThrow('reached DOMParser');
    expect(seen).toEqual([wrapped]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  InvalidJIDError,
  JID,
  MAX_PART_BYTES,
  detectEscape,
  equal,
  escapeLocal,
  jid,
  parse,
  unescapeLocal,
  type JIDPart,
} from '@xmppkit/jid';

/** Run `fn`, expect an InvalidJIDError about `part`, and return it for further checks. */
function invalid(fn: () => unknown, part: JIDPart, message: RegExp | string): InvalidJIDError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an InvalidJIDError').toBeInstanceOf(InvalidJIDError);
  const error = caught as InvalidJIDError;
  expect(error).toBeInstanceOf(Error);
  expect(error.name).toBe('InvalidJIDError');
  expect(error.part).toBe(part);
  expect(error.message).toMatch(/^Invalid JID/);
  expect(error.message).toMatch(message);
  return error;
}

describe('parse()', () => {
  it('parses a full JID', () => {
    const j = parse('juliet@capulet.lit/balcony');
    expect(j).toBeInstanceOf(JID);
    expect(j.local).toBe('juliet');
    expect(j.domain).toBe('capulet.lit');
    expect(j.resource).toBe('balcony');
    expect(j.isBare()).toBe(false);
    expect(j.toString()).toBe('juliet@capulet.lit/balcony');
  });

  it('parses a bare JID', () => {
    const j = parse('juliet@capulet.lit');
    expect([j.local, j.domain, j.resource]).toEqual(['juliet', 'capulet.lit', '']);
    expect(j.isBare()).toBe(true);
    expect(j.toString()).toBe('juliet@capulet.lit');
  });

  it('parses a domain-only JID, with and without a resource', () => {
    const j = parse('capulet.lit');
    expect([j.local, j.domain, j.resource]).toEqual(['', 'capulet.lit', '']);
    expect(j.toString()).toBe('capulet.lit');
    const r = parse('capulet.lit/admin');
    expect([r.local, r.domain, r.resource]).toEqual(['', 'capulet.lit', 'admin']);
    expect(r.toString()).toBe('capulet.lit/admin');
  });

  it('takes everything after the first "/" as the resource, "@" and "/" included', () => {
    const j = parse('juliet@capulet.lit/balcony/with@romeo/x');
    expect(j.local).toBe('juliet');
    expect(j.domain).toBe('capulet.lit');
    expect(j.resource).toBe('balcony/with@romeo/x');
    expect(j.toString()).toBe('juliet@capulet.lit/balcony/with@romeo/x');
  });

  it('only looks for "@" before the first "/"', () => {
    const j = parse('capulet.lit/juliet@home');
    expect([j.local, j.domain, j.resource]).toEqual(['', 'capulet.lit', 'juliet@home']);
  });

  it('keeps spaces and punctuation in a resource', () => {
    expect(parse('a@b/Juliet’s phone: "home" <1>').resource).toBe('Juliet’s phone: "home" <1>');
  });

  it('lower-cases the local part and the domain but not the resource', () => {
    const j = parse('Juliet@Capulet.LIT/Balcony');
    expect(j.toString()).toBe('juliet@capulet.lit/Balcony');
  });

  it('removes one trailing dot from the domain', () => {
    expect(parse('juliet@capulet.lit./balcony').toString()).toBe('juliet@capulet.lit/balcony');
    expect(parse('capulet.lit.').domain).toBe('capulet.lit');
  });

  it('does not escape an already escaped local part, and keeps lone backslashes as they are', () => {
    expect(parse('d\\27artagnan@musketeers.lit').local).toBe('d\\27artagnan');
    expect(parse('c\\3a\\net@example.com').local).toBe('c\\3a\\net');
    expect(parse('foo\\bar@example.com').toString()).toBe('foo\\bar@example.com');
  });

  it('accepts IPv4 addresses and IPv6 literals as domains', () => {
    expect(parse('me@127.0.0.1/r').domain).toBe('127.0.0.1');
    expect(parse('me@[::1]/r').domain).toBe('[::1]');
    expect(parse('[2001:DB8::1]').domain).toBe('[2001:db8::1]');
    expect(parse('a@[::ffff:192.0.2.1]').domain).toBe('[::ffff:192.0.2.1]');
    expect(parse('a@[1:2:3:4:5:6:7:8]').domain).toBe('[1:2:3:4:5:6:7:8]');
  });

  it('accepts hyphens, underscores and digits in a domain', () => {
    expect(parse('a@conference.my-server_1.example').domain).toBe('conference.my-server_1.example');
  });
});

describe('jid()', () => {
  it('parses a single string', () => {
    const j = jid('romeo@montague.lit/orchard');
    expect(j).toBeInstanceOf(JID);
    expect(j.toString()).toBe('romeo@montague.lit/orchard');
  });

  it('builds a JID from parts', () => {
    expect(jid('romeo', 'montague.lit', 'orchard').toString()).toBe('romeo@montague.lit/orchard');
    expect(jid('romeo', 'montague.lit').toString()).toBe('romeo@montague.lit');
    expect(jid(null, 'montague.lit', 'orchard').toString()).toBe('montague.lit/orchard');
    expect(jid(undefined, 'montague.lit').toString()).toBe('montague.lit');
  });

  it('escapes the local part when building from parts', () => {
    expect(jid("d'artagnan", 'musketeers.lit').toString()).toBe('d\\27artagnan@musketeers.lit');
  });

  it('fails on an empty domain when building from parts', () => {
    invalid(() => jid('romeo', ''), 'domain', /the domain is empty/);
  });
});

describe('new JID()', () => {
  it('treats undefined, null and "" as absent local part and resource', () => {
    for (const none of [undefined, null, '']) {
      const j = new JID(none, 'example.com', none);
      expect([j.local, j.domain, j.resource]).toEqual(['', 'example.com', '']);
      expect(j.toString()).toBe('example.com');
    }
  });

  it('normalizes case and the trailing dot', () => {
    const j = new JID('JULIET', 'Capulet.Lit.', 'Balcony');
    expect(j.toString()).toBe('juliet@capulet.lit/Balcony');
  });
});

describe('setters', () => {
  it('normalize, escape and validate like the constructor', () => {
    const j = new JID('a', 'example.com');
    j.local = 'Space Cadet';
    j.domain = 'EXAMPLE.org.';
    j.resource = 'Home';
    expect(j.toString()).toBe('space\\20cadet@example.org/Home');
    j.resource = null;
    j.local = '';
    expect(j.toString()).toBe('example.org');
  });

  it('keep the old value when the new one is invalid', () => {
    const j = new JID('a', 'example.com', 'r');
    invalid(() => {
      j.domain = '';
    }, 'domain', /is empty/);
    invalid(() => {
      j.resource = 'a\u0007';
    }, 'resource', /control character \(U\+0007\)/);
    expect(j.toString()).toBe('a@example.com/r');
  });

  it('have xmpp.js style get/set methods', () => {
    const j = new JID(null, 'example.com');
    expect(j.setLocal('At&T').setDomain('Example.NET').setResource('x')).toBe(j);
    expect(j.getLocal()).toBe('at\\26t');
    expect(j.getLocal(true)).toBe('at&t');
    expect(j.getDomain()).toBe('example.net');
    expect(j.getResource()).toBe('x');
    // escape = true forces escaping of a string that looks escaped already
    expect(j.setLocal('call\\20me', true).local).toBe('call\\5c20me');
  });
});

describe('bare()', () => {
  it('drops the resource and returns a new JID', () => {
    const full = parse('juliet@capulet.lit/balcony');
    const bare = full.bare();
    expect(bare.toString()).toBe('juliet@capulet.lit');
    expect(bare.isBare()).toBe(true);
    expect(bare).not.toBe(full);
    expect(full.toString()).toBe('juliet@capulet.lit/balcony');
  });

  it('keeps the escaped local part as is', () => {
    const bare = parse('c\\3a\\net@example.com/r').bare();
    expect(bare.local).toBe('c\\3a\\net');
    expect(new JID('space cadet', 'example.com', 'r').bare().toString()).toBe('space\\20cadet@example.com');
  });

  it('works on domain-only and already bare JIDs', () => {
    expect(parse('example.com/r').bare().toString()).toBe('example.com');
    const bare = parse('a@example.com');
    expect(bare.bare().equals(bare)).toBe(true);
  });
});

describe('equals() and equal()', () => {
  const j = parse('juliet@capulet.lit/balcony');

  it('compares with JIDs', () => {
    expect(j.equals(new JID('Juliet', 'CAPULET.lit', 'balcony'))).toBe(true);
    expect(j.equals(j)).toBe(true);
    expect(j.equals(parse('juliet@capulet.lit/Balcony'))).toBe(false);
    expect(j.equals(j.bare())).toBe(false);
    expect(j.equals(parse('romeo@capulet.lit/balcony'))).toBe(false);
    expect(j.equals(parse('juliet@montague.lit/balcony'))).toBe(false);
  });

  it('compares with strings, after normalizing them', () => {
    expect(j.equals('juliet@capulet.lit/balcony')).toBe(true);
    expect(j.equals('JULIET@Capulet.Lit./balcony')).toBe(true);
    expect(j.equals('juliet@capulet.lit')).toBe(false);
  });

  it('is false for an invalid string rather than throwing', () => {
    expect(j.equals('juliet@capulet.lit/')).toBe(false);
    expect(equal('@capulet.lit', '@capulet.lit')).toBe(false);
  });

  it('equal() takes JIDs or strings on either side', () => {
    expect(equal('a@b/c', 'A@B/c')).toBe(true);
    expect(equal(parse('a@b'), 'a@b')).toBe(true);
    expect(equal('a@b', parse('a@b'))).toBe(true);
    expect(equal(parse('a@b/c'), parse('a@b/d'))).toBe(false);
  });

  it('compares escaped forms: a user-facing local part equals its escaped wire form', () => {
    expect(new JID("d'artagnan", 'musketeers.lit').equals('d\\27artagnan@musketeers.lit')).toBe(true);
  });
});

describe('string conversions', () => {
  const j = new JID('space cadet', 'example.com', 'ship');

  it('toString() gives the wire form, toString(true) the unescaped form', () => {
    expect(j.toString()).toBe('space\\20cadet@example.com/ship');
    expect(j.toString(true)).toBe('space cadet@example.com/ship');
  });

  it('converts to a primitive string', () => {
    expect(`${j}`).toBe('space\\20cadet@example.com/ship');
    expect(String(j)).toBe('space\\20cadet@example.com/ship');
    expect('to: ' + j).toBe('to: space\\20cadet@example.com/ship');
    expect(j[Symbol.toPrimitive]()).toBe('space\\20cadet@example.com/ship');
  });

  it('serializes to JSON as a string', () => {
    expect(j.toJSON()).toBe('space\\20cadet@example.com/ship');
    expect(JSON.stringify({ to: j })).toBe('{"to":"space\\\\20cadet@example.com/ship"}');
  });
});

describe('XEP-0106 escaping', () => {
  // XEP-0106 section 5, table "JID Examples": user input -> escaped JID
  const examples: [local: string, escaped: string][] = [
    ['space cadet', 'space\\20cadet'],
    ['call me "ishmael"', 'call\\20me\\20\\22ishmael\\22'],
    ['at&t guy', 'at\\26t\\20guy'],
    ["d'artagnan", 'd\\27artagnan'],
    ['/.fanboy', '\\2f.fanboy'],
    ['::foo::', '\\3a\\3afoo\\3a\\3a'],
    ['<foo>', '\\3cfoo\\3e'],
    ['user@host', 'user\\40host'],
    ['c:\\net', 'c\\3a\\5cnet'],
    ['c:\\\\net', 'c\\3a\\5c\\5cnet'],
    ['c:\\cool stuff', 'c\\3a\\5ccool\\20stuff'],
    ['c:\\5commas', 'c\\3a\\5c5commas'],
  ];

  for (const [local, escaped] of examples) {
    it(`${local}@example.com <-> ${escaped}@example.com`, () => {
      const built = new JID(local, 'example.com');
      expect(built.local).toBe(escaped);
      expect(built.toString()).toBe(`${escaped}@example.com`);
      expect(built.toString(true)).toBe(`${local}@example.com`);

      // the wire form parses back to the same JID, and is not escaped again
      const parsed = parse(`${escaped}@example.com`);
      expect(parsed.local).toBe(escaped);
      expect(parsed.equals(built)).toBe(true);
      expect(parsed.toString(true)).toBe(`${local}@example.com`);

      // giving the escaped form to the constructor keeps it as is
      expect(new JID(escaped, 'example.com').local).toBe(escaped);

      expect(escapeLocal(local)).toBe(escaped);
      expect(unescapeLocal(escaped)).toBe(local);
      expect(detectEscape(local)).toBe(true);
      expect(detectEscape(escaped)).toBe(false);
    });
  }

  it('escapes the backslash of a sequence-lookalike when other characters need escaping', () => {
    expect(new JID('call me\\20', 'example.com').local).toBe('call\\20me\\5c20');
    expect(new JID('call me\\20', 'example.com').toString(true)).toBe('call me\\20@example.com');
  });

  it('escapes a lone backslash given to the constructor', () => {
    expect(new JID('foo\\bar', 'example.com').local).toBe('foo\\5cbar');
    expect(new JID('foo\\bar', 'example.com').toString(true)).toBe('foo\\bar@example.com');
  });

  it('trims surrounding whitespace (\\20 may not start or end a local part)', () => {
    expect(escapeLocal('  space cadet ')).toBe('space\\20cadet');
    expect(new JID(' space cadet ', 'example.com').local).toBe('space\\20cadet');
  });

  it('never escapes the domain or the resource', () => {
    const j = new JID('a b', 'example.com', 'c d/e@f');
    expect(j.toString()).toBe('a\\20b@example.com/c d/e@f');
  });

  it('leaves partial, unknown and uppercase sequences alone when unescaping', () => {
    expect(unescapeLocal('\\2plus\\2is\\4')).toBe('\\2plus\\2is\\4');
    expect(unescapeLocal('foo\\bar')).toBe('foo\\bar');
    expect(unescapeLocal('foob\\41r')).toBe('foob\\41r');
    expect(unescapeLocal('\\2F')).toBe('\\2F');
    expect(unescapeLocal('plain')).toBe('plain');
  });

  it('unescapes in one pass, so \\5c20 gives \\20 and not a space', () => {
    expect(unescapeLocal('\\5c20')).toBe('\\20');
    expect(unescapeLocal('\\5c5c')).toBe('\\5c');
  });

  it('detectEscape() ignores empty and absent values', () => {
    expect(detectEscape('')).toBe(false);
    expect(detectEscape(null)).toBe(false);
    expect(detectEscape(undefined)).toBe(false);
    expect(detectEscape('juliet')).toBe(false);
  });

  it('escapes XEP-0106 examples that mix escaped and unescaped input', () => {
    const j = new JID("here's_a_wild_&_/cr%zy/_address", 'example.com');
    expect(j.local).toBe('here\\27s_a_wild_\\26_\\2fcr%zy\\2f_address');
    expect(parse('tréville\\40musketeers.lit@smtp.gascon.fr').toString(true)).toBe('tréville@musketeers.lit@smtp.gascon.fr');
  });
});

describe('unicode', () => {
  it('accepts and lower-cases non-ASCII local parts and domains', () => {
    const j = parse('Σίσυφος@Παράδειγμα.ΔΟΚΙΜΉ/Ῥόδος');
    expect(j.local).toBe('σίσυφος');
    expect(j.domain).toBe('παράδειγμα.δοκιμή');
    expect(j.resource).toBe('Ῥόδος');
  });

  it('accepts RFC 7622 examples', () => {
    expect(parse('fußball@example.com').local).toBe('fußball');
    expect(parse('π@example.com').local).toBe('π');
    expect(parse('juliet@example.com/♚').resource).toBe('♚');
    expect(parse('用户@例子.测试/资源').toString()).toBe('用户@例子.测试/资源');
  });

  it('normalizes to NFC, so composed and decomposed forms are equal', () => {
    const composed = 'caf\u00e9@caf\u00e9.example/caf\u00e9';
    const decomposed = 'cafe\u0301@cafe\u0301.example/cafe\u0301';
    expect(parse(decomposed).toString()).toBe(composed);
    expect(equal(composed, decomposed)).toBe(true);
  });

  it('maps ideographic full stops in the domain to "."', () => {
    expect(parse('a@例子。测试').domain).toBe('例子.测试');
    expect(parse('a@example\uff0ecom').domain).toBe('example.com');
  });

  it('accepts emoji and astral characters', () => {
    expect(parse('😀@example.com/🎉').toString()).toBe('😀@example.com/🎉');
  });
});

describe('length limits', () => {
  it(`accepts parts of exactly ${MAX_PART_BYTES} bytes`, () => {
    expect(MAX_PART_BYTES).toBe(1023);
    const local = 'a'.repeat(1023);
    const resource = 'r'.repeat(1023);
    const domain = `${'d'.repeat(63)}.`.repeat(15) + 'd'.repeat(1023 - 64 * 15);
    expect(domain.length).toBe(1023);
    const j = parse(`${local}@${domain}/${resource}`);
    expect(j.local.length).toBe(1023);
    expect(j.domain.length).toBe(1023);
    expect(j.resource.length).toBe(1023);
  });

  it('rejects a local part over 1023 bytes', () => {
    invalid(() => parse(`${'a'.repeat(1024)}@example.com`), 'local', /is 1024 bytes \(max 1023\)/);
  });

  it('counts bytes of UTF-8, not characters', () => {
    // "é" is 2 bytes, "€" 3, "😀" 4
    expect(parse(`${'é'.repeat(511)}@example.com`).local.length).toBe(511);
    invalid(() => parse(`${'é'.repeat(512)}@example.com`), 'local', /1024 bytes/);
    invalid(() => new JID(null, 'example.com', '€'.repeat(342)), 'resource', /1026 bytes/);
    invalid(() => new JID(null, 'example.com', '😀'.repeat(256)), 'resource', /1024 bytes/);
    expect(new JID(null, 'example.com', '€'.repeat(341)).resource.length).toBe(341);
    expect(new JID(null, 'example.com', '😀'.repeat(255)).resource.length).toBe(510);
  });

  it('rejects a domain over 1023 bytes', () => {
    const domain = `${'d'.repeat(63)}.`.repeat(16) + 'd';
    invalid(() => parse(`a@${domain}`), 'domain', /is 1025 bytes/);
  });

  it('rejects a resource over 1023 bytes', () => {
    invalid(() => parse(`a@example.com/${'r'.repeat(1024)}`), 'resource', /is 1024 bytes/);
  });

  it('applies the limit to the escaped local part', () => {
    const e = invalid(() => new JID('a b'.repeat(300), 'example.com'), 'local', /bytes once escaped/);
    expect(e.message).toMatch(/\(max 1023\)/);
  });

  it('rejects domain labels over 63 characters', () => {
    invalid(() => parse(`a@${'x'.repeat(64)}.example`), 'domain', /has a label of 64 characters \(max 63\)/);
    invalid(() => parse(`a@example.${'x'.repeat(100)}`), 'domain', /has a label of 100 characters/);
    // only ASCII labels: an internationalized label is shorter once encoded for DNS
    expect(parse(`a@é${'x'.repeat(64)}.example`).domain).toBe(`é${'x'.repeat(64)}.example`);
  });

  it('keeps error messages short for huge values', () => {
    const e = invalid(() => parse(`${'a'.repeat(5000)}@example.com`), 'local', /…/);
    expect(e.message.length).toBeLessThan(400);
  });
});

describe('invalid JIDs', () => {
  it('empty domain', () => {
    invalid(() => parse(''), 'domain', 'Invalid JID "": the domain is empty');
    invalid(() => parse('juliet@'), 'domain', /the domain is empty/);
    invalid(() => parse('juliet@/balcony'), 'domain', /the domain is empty/);
    invalid(() => parse('/balcony'), 'domain', /the domain is empty/);
    invalid(() => new JID('juliet', ''), 'domain', 'Invalid JID: the domain is empty');
  });

  it('a domain that is only a dot', () => {
    invalid(() => parse('juliet@.'), 'domain', 'Invalid JID "juliet@.": the domain "." is empty');
  });

  it('a missing domain (from JavaScript)', () => {
    invalid(() => new JID('juliet', undefined as unknown as string), 'domain', /the domain must be a string, not undefined/);
    invalid(() => new JID('juliet', 42 as unknown as string), 'domain', /must be a string, not number/);
  });

  it('empty local part with "@"', () => {
    const e = invalid(() => parse('@example.org'), 'local', 'Invalid JID "@example.org": the local part is empty');
    expect(e.input).toBe('@example.org');
    expect(e.message).toContain('"@example.org"');
    invalid(() => parse('@example.org/r'), 'local', /is empty/);
  });

  it('empty resource with "/"', () => {
    invalid(() => parse('a@b/'), 'resource', 'Invalid JID "a@b/": the resource is empty');
    invalid(() => parse('example.com/'), 'resource', /is empty/);
    // reported before any problem of the other parts
    invalid(() => parse('a b@exa mple.com/'), 'resource', /is empty/);
  });

  it('a local part of nothing but whitespace', () => {
    invalid(() => new JID('   ', 'example.com'), 'local', 'Invalid JID: the local part "   " is empty once escaped');
  });

  for (const char of ['"', '&', "'", ':', '<', '>']) {
    it(`"${char}" in a parsed local part`, () => {
      const hex = char.charCodeAt(0).toString(16);
      const e = invalid(() => parse(`a${char}b@example.com`), 'local', `contains "${char}" (U+00${hex.toUpperCase()}) at index 1`);
      expect(e.reason).toBe(`contains "${char}" (U+00${hex.toUpperCase()}) at index 1`);
    });
  }

  it('a space in a parsed local part', () => {
    const e = invalid(() => parse('space cadet@example.com'), 'local', /the local part "space cadet" contains whitespace \(U\+0020\) at index 5/);
    expect(e.reason).toBe('contains whitespace (U+0020) at index 5');
    invalid(() => parse(' juliet@example.com'), 'local', /whitespace \(U\+0020\) at index 0/);
  });

  it('other whitespace in a local part, parsed or constructed', () => {
    invalid(() => parse('a\u00a0b@example.com'), 'local', /whitespace \(U\+00A0\) at index 1/);
    invalid(() => new JID('a\u3000b', 'example.com'), 'local', /whitespace \(U\+3000\)/);
  });

  it('control characters anywhere', () => {
    invalid(() => parse('a\u0000b@example.com'), 'local', /control character \(U\+0000\) at index 1/);
    invalid(() => parse('a\u001fb@example.com'), 'local', /control character \(U\+001F\)/);
    invalid(() => new JID('a\tb', 'example.com'), 'local', /control character \(U\+0009\)/);
    invalid(() => parse('a@exam\u007fple.com'), 'domain', /control character \(U\+007F\) at index 4/);
    invalid(() => parse('a@example.com/line\nbreak'), 'resource', /control character \(U\+000A\) at index 4/);
    invalid(() => new JID(null, 'example.com', 'a\u0085'), 'resource', /control character \(U\+0085\)/);
    const e = invalid(() => parse('a@example.com/x\u0001'), 'resource', /the resource "x<U\+0001>" contains control character \(U\+0001\) at index 1/);
    expect(e.message).toContain('"a@example.com/x<U+0001>"');
  });

  it('unpaired surrogates', () => {
    invalid(() => parse('a\ud800@example.com'), 'local', /unpaired surrogate \(U\+D800\)/);
    invalid(() => new JID(null, 'example.com', '\udc00'), 'resource', /unpaired surrogate/);
  });

  it('more than one "@" before the resource', () => {
    const e = invalid(() => parse('user@host@example.com'), 'domain', /the domain "host@example.com" contains "@" \(U\+0040\) at index 4/);
    expect(e.reason).toBe('contains "@" (U+0040) at index 4');
  });

  it('whitespace in a domain', () => {
    invalid(() => parse('a@exa mple.com'), 'domain', /contains whitespace \(U\+0020\) at index 3/);
    invalid(() => parse('a@example.com '), 'domain', /whitespace \(U\+0020\)/);
    invalid(() => new JID('a', 'exa\u2003mple.com'), 'domain', /whitespace \(U\+2003\)/);
  });

  it('"/" or "@" in a domain given to the constructor', () => {
    invalid(() => new JID('a', 'example.com/r'), 'domain', /contains "\/" \(U\+002F\)/);
    invalid(() => new JID('a', 'b@example.com'), 'domain', /contains "@"/);
  });

  it('other ASCII punctuation in a domain', () => {
    invalid(() => parse('a@example.com:5222'), 'domain', /contains ":" \(U\+003A\) at index 11/);
    for (const char of ['\\', '<', '>', '"', "'", '&', '!', '#', '%', '*', ',', ';', '=', '?', '[', ']', '{', '}', '|', '~', '^', '`', '+', '$', '(', ')']) {
      invalid(() => new JID(null, `ex${char}ample.com`), 'domain', `contains "${char}" (U+00`);
    }
  });

  it('empty labels in a domain', () => {
    invalid(() => parse('a@example..com'), 'domain', /contains an empty label/);
    invalid(() => parse('a@.example.com'), 'domain', /contains an empty label/);
    invalid(() => parse('a@example.com..'), 'domain', /contains an empty label/);
  });

  it('bad IPv6 literals', () => {
    for (const domain of ['[]', '[::g]', '[1:2:3:4:5:6:7:8:9]', '[1::2::3]', '[12345::]', '[::1', '::1]', '[127.0.0.1]', '[::1.2.3.256]', '[:1:2]', '[fe80::1%eth0]']) {
      invalid(() => parse(`a@${domain}`), 'domain', /not a valid IPv6 address literal/);
    }
    for (const domain of ['[::1]@[::2]', '[::1]:5222', '[::1/x]', '[::1]#x', '[::1]?x', '[::1\\x]', '[ ::1]']) {
      invalid(() => new JID(null, domain), 'domain', /not a valid IPv6 address literal/);
    }
  });

  it('a bracketless IPv6 address', () => {
    invalid(() => parse('a@::1'), 'domain', /contains ":"/);
  });

  it('non-string input (from JavaScript)', () => {
    invalid(() => parse(null as unknown as string), 'address', /must be a string, not null/);
    invalid(() => parse(42 as unknown as string), 'address', /must be a string, not number/);
    invalid(() => new JID(42 as unknown as string, 'example.com'), 'local', /must be a string, not number/);
    invalid(() => new JID(null, 'example.com', {} as unknown as string), 'resource', /must be a string, not object/);
  });

  it('keeps the input on the error when parsing, not when constructing', () => {
    expect(invalid(() => parse('a b@c'), 'local', /whitespace/).input).toBe('a b@c');
    expect(invalid(() => new JID(null, ''), 'domain', /empty/).input).toBeUndefined();
  });

  it('reports the first problem, local part first', () => {
    invalid(() => parse('a b@exa mple.com/x\u0000'), 'local', /the local part "a b" contains whitespace/);
  });
});

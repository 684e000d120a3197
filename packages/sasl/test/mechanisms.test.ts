import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SASLError } from '@xmppkit/error';
import { ScramCache, anonymous, anonymousWithTrace, base64Decode, base64Encode, plain, type Credentials } from '../src/mechanisms/index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const context = () => ({ scramCache: new ScramCache() });

describe('PLAIN', () => {
  it('sends NUL username NUL password', async () => {
    expect(plain.name).toBe('PLAIN');
    const session = plain.create({ username: 'user', password: 'pencil' }, context());
    expect(await session.start()).toEqual(enc('\0user\0pencil'));
    await expect(session.success(null)).resolves.toBeUndefined();
  });

  it('sends the authzid first', async () => {
    const session = plain.create({ username: 'user', password: 'pencil', authzid: 'admin@example.com' }, context());
    expect(await session.start()).toEqual(enc('admin@example.com\0user\0pencil'));
  });

  it('encodes UTF-8 after SASLprep', async () => {
    const session = plain.create({ username: 'j\u00FCliet\u00AD', password: 'I\u00ADX \u2168\u00A0\u{1F511}' }, context());
    expect(await session.start()).toEqual(new Uint8Array([0, 0x6a, 0xc3, 0xbc, ...enc('liet\0IX IX \u{1F511}')]));
  });

  it('answers one empty challenge (server ignored the initial response), nothing else', async () => {
    const session = plain.create({ username: 'user', password: 'pencil' }, context());
    await session.start();
    await expect(session.challenge(new Uint8Array(0))).rejects.toMatchObject({ condition: 'invalid-challenge' });
    const other = plain.create({ username: 'user', password: 'pencil' }, context());
    expect(await other.challenge(new Uint8Array(0))).toEqual(enc('\0user\0pencil'));
    await expect(other.challenge(new Uint8Array(0))).rejects.toBeInstanceOf(SASLError);
  });

  it.each([
    [{ password: 'pencil' }, 'invalid-username', 'username is required'],
    [{ username: 'user' }, 'invalid-password', 'password is required'],
    [{ username: 'user', password: '\u00AD' }, 'invalid-password', 'password is required'],
    [{ username: 'user', password: 'pen\u0000cil' }, 'invalid-password', 'password contains a prohibited character (U+0000)'],
    [{ username: 'us\u0000er', password: 'pencil' }, 'invalid-username', 'username contains a prohibited character (U+0000)'],
    [{ username: 'user', password: 'pencil', authzid: 'a\u0000b' }, 'invalid-authzid', 'authzid contains a prohibited character (U+0000)'],
  ] as [Credentials, string, string][])('rejects %j', async (credentials, condition, text) => {
    await expect(plain.create(credentials, context()).start()).rejects.toMatchObject({ name: 'SASLError', condition, text });
  });
});

describe('ANONYMOUS', () => {
  it('sends no initial response and answers the empty challenge with nothing', async () => {
    expect(anonymous.name).toBe('ANONYMOUS');
    const session = anonymous.create({}, context());
    expect(await session.start()).toBeNull();
    expect(await session.challenge(new Uint8Array(0))).toEqual(new Uint8Array(0));
    await expect(session.success(null)).resolves.toBeUndefined();
  });

  it('sends a trace token', async () => {
    const mechanism = anonymousWithTrace('sirhc@example.com');
    expect(mechanism.name).toBe('ANONYMOUS');
    expect(await mechanism.create({}, context()).start()).toEqual(enc('sirhc@example.com'));
    const late = mechanism.create({}, context());
    expect(await late.challenge(new Uint8Array(0))).toEqual(enc('sirhc@example.com'));
  });

  it('rejects unexpected challenges and bad traces', async () => {
    await expect(anonymous.create({}, context()).challenge(enc('x'))).rejects.toMatchObject({ condition: 'invalid-challenge' });
    expect(() => anonymousWithTrace('')).toThrow(RangeError);
    expect(() => anonymousWithTrace('x'.repeat(256))).toThrow(RangeError);
    expect(() => anonymousWithTrace('\u{1F511}'.repeat(255))).not.toThrow();
  });
});

describe('base64', () => {
  it('matches Buffer on random data of every length up to 70 and on large data', () => {
    for (let length = 0; length <= 70; length++) {
      const bytes = randomBytes(length);
      const text = base64Encode(new Uint8Array(bytes));
      expect(text).toBe(bytes.toString('base64'));
      expect(base64Decode(text)).toEqual(new Uint8Array(bytes));
    }
    const large = randomBytes(200_003);
    expect(base64Encode(new Uint8Array(large))).toBe(large.toString('base64'));
    expect(base64Decode(large.toString('base64'))).toEqual(new Uint8Array(large));
  });

  it('ignores whitespace and rejects everything else that is not padded base64', () => {
    expect(base64Decode('cGVu\r\nY2ls')).toEqual(enc('pencil'));
    for (const bad of ['cGVuY2ls=', 'cGVuY2l', 'cGVu*2ls', 'cGVuY2l=s', 'cGVuY2lsY===', '=']) {
      expect(() => base64Decode(bad)).toThrow(expect.objectContaining({ name: 'SASLError', condition: 'incorrect-encoding' }));
    }
  });
});

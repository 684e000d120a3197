import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Reference from 'sasl-scram-sha-1';
import referenceSaslprep from 'saslprep';
import { SASLError } from '@xmppkit/error';
import {
  MAX_SCRAM_ITERATIONS,
  ScramCache,
  scramSha1,
  scramSha256,
  scramSha512,
  type Credentials,
  type Mechanism,
  type MechanismSession,
} from '../src/mechanisms/index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

type NodeHash = 'sha1' | 'sha256' | 'sha512';
const NODE_HASH: Record<string, NodeHash> = { 'SCRAM-SHA-1': 'sha1', 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-512': 'sha512' };

/** A SCRAM server on node:crypto, independent of the code under test. */
function referenceServer(mechanism: Mechanism, password: string, options: { salt?: Buffer; iterations?: number; serverNonce?: string } = {}) {
  const hash = NODE_HASH[mechanism.name]!;
  const salt = options.salt ?? randomBytes(16);
  const iterations = options.iterations ?? 4096;
  const salted = pbkdf2Sync(referenceSaslprep(password, { allowUnassigned: true }), salt, iterations, createHash(hash).digest().length, hash);
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  const storedKey = createHash(hash).update(clientKey).digest();
  const serverKey = createHmac(hash, salted).update('Server Key').digest();
  let clientFirstBare = '';
  let serverFirst = '';
  return {
    first(clientFirst: string): string {
      const match = /^n,(?:a=[^,]*)?,(n=[^,]*,r=([^,]+))$/.exec(clientFirst);
      if (!match) throw new Error(`bad client-first ${clientFirst}`);
      clientFirstBare = match[1]!;
      serverFirst = `r=${match[2]}${options.serverNonce ?? randomBytes(12).toString('base64')},s=${salt.toString('base64')},i=${iterations}`;
      return serverFirst;
    },
    /** Checks the proof like a server would and returns the server-final-message. */
    final(clientFinal: string): string {
      const match = /^(c=[^,]*,r=[^,]*),p=([^,]*)$/.exec(clientFinal);
      if (!match) throw new Error(`bad client-final ${clientFinal}`);
      const authMessage = `${clientFirstBare},${serverFirst},${match[1]}`;
      const clientSignature = createHmac(hash, storedKey).update(authMessage).digest();
      const proof = Buffer.from(match[2]!, 'base64');
      const recovered = Buffer.from(proof.map((b, i) => b ^ clientSignature[i]!));
      if (!timingSafeEqual(createHash(hash).update(recovered).digest(), storedKey)) return 'e=invalid-proof';
      return `v=${createHmac(hash, serverKey).update(authMessage).digest('base64')}`;
    },
  };
}

/** Full exchange against the reference server, the server-final-message arriving in <success/>. */
async function authenticate(mechanism: Mechanism, credentials: Credentials, serverPassword = credentials.password ?? '', cache = new ScramCache()) {
  const server = referenceServer(mechanism, serverPassword);
  const session = mechanism.create(credentials, { scramCache: cache });
  const clientFirst = dec(await session.start())!;
  const clientFinal = dec(await session.challenge(enc(server.first(clientFirst))))!;
  const serverFinal = server.final(clientFinal);
  return { session, clientFirst, clientFinal, serverFinal, done: session.success(enc(serverFinal)) };
}

async function rejection(promise: Promise<unknown>): Promise<SASLError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SASLError);
  return error as SASLError;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('SCRAM test vectors', () => {
  it('RFC 5802 SCRAM-SHA-1', async () => {
    const session = scramSha1.create({ username: 'user', password: 'pencil' }, { scramCache: new ScramCache(), nonce: 'fyko+d2lbbFgONRv9qkxdawL' });
    expect(dec(await session.start())).toBe('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
    const final = await session.challenge(enc('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'));
    expect(dec(final)).toBe('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=');
    await expect(session.success(enc('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='))).resolves.toBeUndefined();
  });

  it('RFC 7677 SCRAM-SHA-256', async () => {
    const session = scramSha256.create({ username: 'user', password: 'pencil' }, { scramCache: new ScramCache(), nonce: 'rOprNGfwEbeRWgbNEkqO' });
    expect(dec(await session.start())).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const final = await session.challenge(enc('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'));
    expect(dec(final)).toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    await expect(session.success(enc('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='))).resolves.toBeUndefined();
  });

  it('names the mechanisms', () => {
    expect([scramSha1.name, scramSha256.name, scramSha512.name]).toEqual(['SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);
  });
});

describe('SCRAM-SHA-1 against the sasl-scram-sha-1 package', () => {
  const cases: Credentials[] = [
    { username: 'user', password: 'pencil' },
    { username: 'juliet', password: 'p\u00E4ssw\u00F6rd' },
    { username: 'romeo', password: '\u043F\u0430\u0440\u043E\u043B\u044C' },
    { username: '\u5F20\u4E09', password: '\u5BC6\u7801\u{1F511}' },
    { username: 'a,b=c', password: 'with,comma=and=equals' },
    { username: 'user', password: 'pencil', authzid: 'admin@example.com' },
    { username: 'user', password: 'x', authzid: 'odd,authz=id' },
  ];

  it.each(cases)('same client-first and client-final for %j', async (credentials) => {
    // The reference runs PBKDF2 as one awaited HMAC per iteration, so keep the counts small.
    for (const iterations of [1, 2, 100 + Math.floor(Math.random() * 200)]) {
      const nonce = randomBytes(18).toString('base64');
      const serverFirst = `r=${nonce}${randomBytes(9).toString('base64')},s=${randomBytes(16).toString('base64')},i=${iterations}`;

      const reference = new Reference({ genNonce: () => nonce });
      const referenceFirst: string = reference.response(credentials);
      reference.challenge(serverFirst);
      const referenceFinal: string = await reference.response(credentials);

      const session = scramSha1.create(credentials, { scramCache: new ScramCache(), nonce });
      expect(dec(await session.start())).toBe(referenceFirst);
      expect(dec(await session.challenge(enc(serverFirst)))).toBe(referenceFinal);
    }
  });
});

describe('SCRAM round trips with a node:crypto server', () => {
  it.each([
    ['SCRAM-SHA-1', scramSha1],
    ['SCRAM-SHA-256', scramSha256],
    ['SCRAM-SHA-512', scramSha512],
  ] as const)('%s authenticates and verifies the server', async (_, mechanism) => {
    for (const password of ['pencil', 'p\u00E4ssw\u00F6rd \u{1F511}']) {
      const { clientFirst, clientFinal, serverFinal, done } = await authenticate(mechanism, { username: 'user', password });
      expect(clientFirst).toMatch(/^n,,n=user,r=[A-Za-z0-9+/]{32}$/);
      expect(clientFinal).toMatch(/^c=biws,r=[^,]+,p=[A-Za-z0-9+/=]+$/);
      expect(serverFinal).toMatch(/^v=/);
      await expect(done).resolves.toBeUndefined();
    }
  });

  it('applies SASLprep to the password and the username', async () => {
    // The server prepares its password with the saslprep package: 'I\u00ADX' and '\u2168' both become 'IX'.
    const { clientFirst, done } = await authenticate(scramSha256, { username: 'u\u00ADser\u2168', password: 'I\u00ADX' }, '\u2168');
    expect(clientFirst).toMatch(/^n,,n=userIX,r=/);
    await expect(done).resolves.toBeUndefined();
  });

  it('sends authzid in the GS2 header and escapes saslnames', async () => {
    const { clientFirst, clientFinal, done } = await authenticate(scramSha512, { username: 'a,b=c', password: 'secret', authzid: 'admin=x,y@example.com' });
    expect(clientFirst).toMatch(/^n,a=admin=3Dx=2Cy@example\.com,n=a=2Cb=3Dc,r=/);
    expect(clientFinal).toMatch(new RegExp(`^c=${btoa('n,a=admin=3Dx=2Cy@example.com,')},r=`));
    await expect(done).resolves.toBeUndefined();
  });

  it('uses a fresh 24-byte random nonce per session', async () => {
    const cache = new ScramCache();
    const a = dec(await scramSha1.create({ username: 'u', password: 'p' }, { scramCache: cache }).start())!;
    const b = dec(await scramSha1.create({ username: 'u', password: 'p' }, { scramCache: cache }).start())!;
    const nonce = (s: string) => s.slice(s.indexOf(',r=') + 3);
    expect(atob(nonce(a))).toHaveLength(24);
    expect(nonce(a)).not.toBe(nonce(b));
  });

  it('accepts the server-final-message as a challenge followed by an empty <success/>', async () => {
    const server = referenceServer(scramSha256, 'pencil');
    const session = scramSha256.create({ username: 'user', password: 'pencil' }, { scramCache: new ScramCache() });
    const clientFinal = await session.challenge(enc(server.first(dec(await session.start())!)));
    const response = await session.challenge(enc(server.final(dec(clientFinal)!)));
    expect(response).toEqual(new Uint8Array(0));
    await expect(session.success(null)).resolves.toBeUndefined();
  });

  it('completes with 10000 iterations', async () => {
    const server = referenceServer(scramSha1, 'pencil', { iterations: 10_000 });
    const session = scramSha1.create({ username: 'user', password: 'pencil' }, { scramCache: new ScramCache() });
    const clientFinal = await session.challenge(enc(server.first(dec(await session.start())!)));
    await expect(session.success(enc(server.final(dec(clientFinal)!)))).resolves.toBeUndefined();
  });
});

describe('SCRAM verification failures', () => {
  /** A session that sent its client-final for the RFC 5802 exchange. */
  async function rfc5802Session(cache = new ScramCache()): Promise<MechanismSession> {
    const session = scramSha1.create({ username: 'user', password: 'pencil' }, { scramCache: cache, nonce: 'fyko+d2lbbFgONRv9qkxdawL' });
    await session.start();
    await session.challenge(enc('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'));
    return session;
  }

  it('rejects a wrong server signature', async () => {
    const cache = new ScramCache();
    const session = await rfc5802Session(cache);
    const error = await rejection(session.success(enc('v=AmF9pqV8S7suAoZWja4dJRkFsKQ=')));
    expect(error.condition).toBe('server-signature-mismatch');
    expect(error.text).toBe('bad server signature (v=)');
    expect(cache.size).toBe(0);
  });

  it('rejects the signature of a server that does not know the password', async () => {
    const { done } = await authenticate(scramSha256, { username: 'user', password: 'pencil' }, 'other');
    // This server answers e=invalid-proof; a server that forged v= instead is covered above.
    expect((await rejection(done)).condition).toBe('not-authorized');
  });

  it.each([
    ['no additional data', null],
    ['empty additional data', new Uint8Array(0)],
    ['no v= attribute', enc('x=1')],
    ['a truncated v=', enc('v=rmF9pqV8S7suAoZWja4dJRk=')],
    ['a v= that is not base64', enc('v=rmF9pqV8S7suAoZWja4dJRkFsKQ')],
  ])('rejects a <success/> with %s', async (_, data) => {
    const session = await rfc5802Session();
    const error = await rejection(session.success(data));
    expect(error.condition).toBe('server-signature-mismatch');
  });

  it('rejects a <success/> before the exchange completed', async () => {
    const session = scramSha1.create({ username: 'user', password: 'pencil' }, { scramCache: new ScramCache() });
    await session.start();
    const error = await rejection(session.success(enc('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')));
    expect(error).toMatchObject({ condition: 'server-signature-mismatch', text: 'premature success' });
    const early = scramSha1.create({ username: 'user', password: 'pencil' }, { scramCache: new ScramCache() });
    expect((await rejection(early.success(null))).condition).toBe('server-signature-mismatch');
  });

  it('rejects e=invalid-proof in <success/> and in a challenge', async () => {
    const error = await rejection((await rfc5802Session()).success(enc('e=invalid-proof')));
    expect(error).toMatchObject({ condition: 'not-authorized', text: 'server error "invalid-proof"' });
    const again = await rejection((await rfc5802Session()).challenge(enc('e=invalid-proof')));
    expect(again.text).toContain('invalid-proof');
  });

  it('fails for good after an error', async () => {
    const session = await rfc5802Session();
    await rejection(session.success(enc('v=AmF9pqV8S7suAoZWja4dJRkFsKQ=')));
    expect((await rejection(session.success(enc('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')))).text).toBe('unexpected SCRAM step');
  });

  it('rejects a challenge after the exchange', async () => {
    const session = await rfc5802Session();
    await session.success(enc('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='));
    expect((await rejection(session.challenge(enc('r=x')))).condition).toBe('invalid-challenge');
  });
});

describe('SCRAM server-first-message checks', () => {
  const nonce = 'fyko+d2lbbFgONRv9qkxdawL';
  async function answer(serverFirst: string): Promise<SASLError> {
    const derive = vi.spyOn(crypto.subtle, 'deriveBits');
    const session = scramSha1.create({ username: 'user', password: 'pencil' }, { scramCache: new ScramCache(), nonce });
    await session.start();
    const error = await rejection(session.challenge(enc(serverFirst)));
    expect(derive).not.toHaveBeenCalled();
    return error;
  }

  it.each([
    ['a server nonce that does not start with the client nonce', 'r=Xyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'],
    ['a server nonce that only repeats the client nonce', `r=${nonce},s=QSXCR+Q6sek8bf92,i=4096`],
    ['no server nonce', 's=QSXCR+Q6sek8bf92,i=4096'],
  ])('rejects %s', async (_, serverFirst) => {
    expect(await answer(serverFirst)).toMatchObject({ condition: 'invalid-challenge', text: 'bad nonce (r=)' });
  });

  it.each(['0', '-1', '1.5', 'abc', '', '0100', String(MAX_SCRAM_ITERATIONS + 1), '99999999999999999999'])('rejects the iteration count %j', async (i) => {
    const error = await answer(`r=${nonce}3rfc,s=QSXCR+Q6sek8bf92,i=${i}`);
    expect(error.condition).toBe('invalid-challenge');
    expect(error.text).toBe(`iteration count (i=) ${JSON.stringify(i)} not in 1..${MAX_SCRAM_ITERATIONS}`);
  });

  it.each([
    ['no salt', `r=${nonce}3rfc,i=4096`, 'bad salt (s=)'],
    ['a salt that is not base64', `r=${nonce}3rfc,s=QSX*,i=4096`, 'bad salt (s=)'],
    ['an empty salt', `r=${nonce}3rfc,s=,i=4096`, 'bad salt (s=)'],
    ['a mandatory extension', `m=ext,r=${nonce}3rfc,s=QSXCR+Q6sek8bf92,i=4096`, 'unsupported extension (m=)'],
    ['a malformed attribute', `r=${nonce}3rfc,garbage,i=4096`, 'malformed attribute "garbage"'],
  ])('rejects %s', async (_, serverFirst, text) => {
    expect(await answer(serverFirst)).toMatchObject({ condition: 'invalid-challenge', text });
  });

  it('rejects a challenge that is not UTF-8', async () => {
    const session = scramSha1.create({ username: 'user', password: 'pencil' }, { scramCache: new ScramCache() });
    await session.start();
    expect((await rejection(session.challenge(new Uint8Array([0x72, 0x3d, 0xff])))).text).toBe('not UTF-8');
  });
});

describe('SCRAM credentials', () => {
  it.each([
    [{ password: 'p' }, 'invalid-username', 'username is required'],
    [{ username: '\u00AD', password: 'p' }, 'invalid-username', 'username is required'],
    [{ username: 'u' }, 'invalid-password', 'password is required'],
    [{ username: 'u', password: 'a\u0007' }, 'invalid-password', 'password contains a prohibited character (U+0007)'],
    [{ username: 'u\u200E', password: 'p' }, 'invalid-username', 'username contains a prohibited character (U+200E)'],
  ] as [Credentials, string, string][])('rejects %j', async (credentials, condition, text) => {
    const session = scramSha256.create(credentials, { scramCache: new ScramCache() });
    expect(await rejection(session.start())).toMatchObject({ condition, text });
  });

  it('accepts unassigned code points in passwords (SASLprep query)', async () => {
    const { done } = await authenticate(scramSha1, { username: 'user', password: 'a\u0378' }, 'a\u0378');
    await expect(done).resolves.toBeUndefined();
  });
});

describe('SCRAM key cache', () => {
  it('skips PBKDF2 on a second session with the same salt and iteration count', async () => {
    const derive = vi.spyOn(crypto.subtle, 'deriveBits');
    const cache = new ScramCache();
    const salt = randomBytes(16);
    for (let round = 0; round < 3; round++) {
      const server = referenceServer(scramSha256, 'pencil', { salt, iterations: 4096 });
      const session = scramSha256.create({ username: 'user', password: 'pencil' }, { scramCache: cache });
      const clientFinal = dec(await session.challenge(enc(server.first(dec(await session.start())!))))!;
      const serverFinal = server.final(clientFinal);
      expect(serverFinal).toMatch(/^v=/); // the proof is right
      await session.success(enc(serverFinal));
    }
    expect(derive).toHaveBeenCalledTimes(1);
    expect(cache.size).toBe(1);
  });

  it('derives again for another salt, iteration count, password, hash or cache', async () => {
    const derive = vi.spyOn(crypto.subtle, 'deriveBits');
    const cache = new ScramCache();
    const salt = randomBytes(16);
    const run = async (mechanism: Mechanism, password: string, options: { salt: Buffer; iterations: number }, scramCache = cache) => {
      const server = referenceServer(mechanism, password, options);
      const session = mechanism.create({ username: 'user', password }, { scramCache });
      const clientFinal = dec(await session.challenge(enc(server.first(dec(await session.start())!))))!;
      await session.success(enc(server.final(clientFinal)));
    };
    await run(scramSha1, 'pencil', { salt, iterations: 64 });
    await run(scramSha1, 'pencil', { salt: randomBytes(16), iterations: 64 });
    await run(scramSha1, 'pencil', { salt, iterations: 65 });
    await run(scramSha1, 'pen', { salt, iterations: 64 });
    await run(scramSha256, 'pencil', { salt, iterations: 64 });
    await run(scramSha1, 'pencil', { salt, iterations: 64 }, new ScramCache());
    expect(derive).toHaveBeenCalledTimes(6);
    await run(scramSha1, 'pencil', { salt, iterations: 64 });
    expect(derive).toHaveBeenCalledTimes(6);
  });

  it('does not cache keys the server did not confirm', async () => {
    const cache = new ScramCache();
    const { done } = await authenticate(scramSha1, { username: 'user', password: 'pencil' }, 'wrong', cache);
    await rejection(done);
    expect(cache.size).toBe(0);
  });

  it('keys entries by a digest, never by the password, and bounds its size', async () => {
    const cache = new ScramCache(2);
    const key = await cache.key({ hash: 'SHA-1', salt: enc('salt'), iterations: 4096, password: enc('pencil') });
    expect(key).toMatch(/^SHA-1\|c2FsdA==\|4096\|[A-Za-z0-9+/]{43}=$/);
    expect(key).not.toContain('pencil');
    expect(key).not.toContain(btoa('pencil'));
    expect(await cache.key({ hash: 'SHA-1', salt: enc('salt'), iterations: 4096, password: enc('pencil') })).toBe(key);
    // one pepper per process: another cache agrees, and the digest is not a plain SHA-256 of the password
    expect(await new ScramCache().key({ hash: 'SHA-1', salt: enc('salt'), iterations: 4096, password: enc('pencil') })).toBe(key);
    const plainDigest = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('SHA-256', enc('pencil')))));
    expect(key.endsWith(plainDigest)).toBe(false);
    const keys = { clientKey: new Uint8Array([1]), serverKey: new Uint8Array([2]) };
    cache.set('a', keys);
    cache.set('b', keys);
    cache.set('c', keys);
    expect([cache.get('a'), cache.size]).toEqual([undefined, 2]);
    expect(cache.get('c')).toEqual(keys);
    cache.clear();
    expect(cache.size).toBe(0);
  });
});

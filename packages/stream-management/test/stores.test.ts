import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryStore, webStorageStore, type StreamManagementState, type WebStorage } from '@xmppkit/stream-management';
import { fileStore } from '../src/file-store.js';

function state(overrides: Partial<StreamManagementState> = {}): StreamManagementState {
  return {
    version: 1,
    id: 'sm-1',
    jid: 'user@localhost/res',
    service: 'wss://localhost/xmpp-websocket',
    location: null,
    max: 600,
    inbound: 7,
    acked: 3,
    unacked: [
      { xml: '<message to="juliet@example.com" id="m1"><body>hi</body></message>', stamp: 1_700_000_000_000 },
      { xml: '<message to="juliet@example.com" id="m2"><body>there</body></message>', stamp: 1_700_000_000_500 },
    ],
    savedAt: 1_700_000_001_000,
    ...overrides,
  };
}

/** A Storage-like object backed by a Map, recording every call. */
function fakeStorage(): WebStorage & { items: Map<string, string>; calls: string[] } {
  const items = new Map<string, string>();
  const calls: string[] = [];
  return {
    items,
    calls,
    getItem(key) {
      calls.push(`get ${key}`);
      return items.has(key) ? (items.get(key) as string) : null;
    },
    setItem(key, value) {
      calls.push(`set ${key}`);
      items.set(key, String(value));
    },
    removeItem(key) {
      calls.push(`remove ${key}`);
      items.delete(key);
    },
  };
}

describe('memoryStore()', () => {
  it('starts empty', () => {
    const store = memoryStore();
    expect(store.load()).toBeNull();
    expect(store.state).toBeNull();
  });

  it('round-trips a state', () => {
    const store = memoryStore();
    const saved = state();
    store.save(saved);
    expect(store.load()).toEqual(saved);
    expect(store.state).toEqual(saved);
  });

  it('keeps a copy: changing the saved object afterwards does not change the store', () => {
    const store = memoryStore();
    const saved = state();
    store.save(saved);
    saved.inbound = 99;
    saved.unacked.push({ xml: '<presence/>', stamp: 1 });
    expect(store.load()).toEqual(state());
  });

  it('returns copies: changing what load() returned does not change the store', () => {
    const store = memoryStore();
    store.save(state());
    const first = store.load() as StreamManagementState;
    const second = store.load() as StreamManagementState;
    expect(first).not.toBe(second);
    expect(first.unacked).not.toBe(second.unacked);
    first.acked = 42;
    first.unacked.length = 0;
    expect(store.load()).toEqual(state());
  });

  it('the last save wins', () => {
    const store = memoryStore();
    store.save(state({ inbound: 1 }));
    store.save(state({ inbound: 2, id: 'sm-2' }));
    expect(store.load()).toMatchObject({ inbound: 2, id: 'sm-2' });
  });

  it('clear() forgets the state', () => {
    const store = memoryStore();
    store.save(state());
    store.clear();
    expect(store.load()).toBeNull();
    expect(store.state).toBeNull();
  });

  it('separate stores do not share state', () => {
    const a = memoryStore();
    const b = memoryStore();
    a.save(state());
    expect(b.load()).toBeNull();
  });
});

describe('webStorageStore()', () => {
  it('round-trips a state under the default key xmppkit:sm', () => {
    const storage = fakeStorage();
    const store = webStorageStore(storage);
    expect(store.load()).toBeNull();
    store.save(state());
    expect([...storage.items.keys()]).toEqual(['xmppkit:sm']);
    expect(JSON.parse(storage.items.get('xmppkit:sm') as string)).toEqual(state());
    expect(store.load()).toEqual(state());
  });

  it('returns a fresh object on every load', () => {
    const store = webStorageStore(fakeStorage());
    store.save(state());
    const first = store.load() as StreamManagementState;
    first.inbound = 1000;
    expect(store.load()).toEqual(state());
  });

  it('returns null for corrupted JSON', () => {
    const storage = fakeStorage();
    storage.items.set('xmppkit:sm', '{"version":1,"id":');
    expect(webStorageStore(storage).load()).toBeNull();
  });

  it('returns null for an empty string', () => {
    const storage = fakeStorage();
    storage.items.set('xmppkit:sm', '');
    expect(webStorageStore(storage).load()).toBeNull();
  });

  it('returns null for a state of another version', () => {
    const storage = fakeStorage();
    storage.items.set('xmppkit:sm', JSON.stringify({ ...state(), version: 2 }));
    expect(webStorageStore(storage).load()).toBeNull();
  });

  it('returns null for JSON that is not a state', () => {
    const storage = fakeStorage();
    const store = webStorageStore(storage);
    for (const value of ['null', '42', '"text"', '[]', '{}', JSON.stringify({ ...state(), id: 5 }), JSON.stringify({ ...state(), unacked: 'none' })]) {
      storage.items.set('xmppkit:sm', value);
      expect(store.load(), value).toBeNull();
    }
  });

  it('clear() removes the key and leaves other keys alone', () => {
    const storage = fakeStorage();
    storage.items.set('unrelated', 'keep me');
    const store = webStorageStore(storage);
    store.save(state());
    store.clear();
    expect(storage.items.has('xmppkit:sm')).toBe(false);
    expect(storage.items.get('unrelated')).toBe('keep me');
    expect(storage.calls).toContain('remove xmppkit:sm');
    expect(store.load()).toBeNull();
  });

  it('uses a custom key', () => {
    const storage = fakeStorage();
    const alice = webStorageStore(storage, 'app:alice');
    const bob = webStorageStore(storage, 'app:bob');
    alice.save(state({ jid: 'alice@localhost/a' }));
    bob.save(state({ jid: 'bob@localhost/b' }));
    expect([...storage.items.keys()].sort()).toEqual(['app:alice', 'app:bob']);
    expect(alice.load()).toMatchObject({ jid: 'alice@localhost/a' });
    expect(bob.load()).toMatchObject({ jid: 'bob@localhost/b' });
    alice.clear();
    expect(alice.load()).toBeNull();
    expect(bob.load()).toMatchObject({ jid: 'bob@localhost/b' });
    expect(storage.calls).not.toContain('get xmppkit:sm');
  });
});

describe('fileStore()', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xmppkit-sm-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips a state through the file', async () => {
    const file = path.join(dir, 'sm.json');
    const store = fileStore(file);
    await store.save(state());
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(state());
    expect(await store.load()).toEqual(state());
    // another store on the same file (another process) reads it too
    expect(await fileStore(file).load()).toEqual(state());
  });

  it('creates the file with mode 0600', async () => {
    const file = path.join(dir, 'sm.json');
    await fileStore(file).save(state());
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('creates missing parent directories', async () => {
    const file = path.join(dir, 'a', 'b', 'sm.json');
    const store = fileStore(file);
    await store.save(state());
    expect(await store.load()).toEqual(state());
  });

  it('loads null when the file is missing', async () => {
    expect(await fileStore(path.join(dir, 'missing.json')).load()).toBeNull();
  });

  it('loads null when the file is corrupt', async () => {
    const file = path.join(dir, 'sm.json');
    fs.writeFileSync(file, '{"version":1,"id":"sm-1",');
    expect(await fileStore(file).load()).toBeNull();
  });

  it('loads null when the file holds another version or not a state', async () => {
    const file = path.join(dir, 'sm.json');
    fs.writeFileSync(file, JSON.stringify({ ...state(), version: 2 }));
    expect(await fileStore(file).load()).toBeNull();
    fs.writeFileSync(file, JSON.stringify({ hello: 'world' }));
    expect(await fileStore(file).load()).toBeNull();
  });

  it('clear() removes the file, and clearing a missing file is fine', async () => {
    const file = path.join(dir, 'sm.json');
    const store = fileStore(file);
    await store.save(state());
    await store.clear();
    expect(fs.existsSync(file)).toBe(false);
    expect(await store.load()).toBeNull();
    await expect(Promise.resolve(store.clear())).resolves.toBeUndefined();
  });

  it('concurrent saves leave the last state', async () => {
    const file = path.join(dir, 'sm.json');
    const store = fileStore(file);
    const saves = Array.from({ length: 20 }, (_, i) => store.save(state({ inbound: i, savedAt: 1_700_000_000_000 + i })));
    await Promise.all(saves);
    expect(await store.load()).toMatchObject({ inbound: 19, savedAt: 1_700_000_000_019 });
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).inbound).toBe(19);
  });

  it('load() waits for pending saves', async () => {
    const file = path.join(dir, 'sm.json');
    const store = fileStore(file);
    void store.save(state({ inbound: 1 }));
    void store.save(state({ inbound: 2 }));
    expect(await store.load()).toMatchObject({ inbound: 2 });
  });

  it('a clear() queued after saves wins over them', async () => {
    const file = path.join(dir, 'sm.json');
    const store = fileStore(file);
    void store.save(state({ inbound: 1 }));
    void store.save(state({ inbound: 2 }));
    await store.clear();
    expect(fs.existsSync(file)).toBe(false);
    expect(await store.load()).toBeNull();
  });

  it('leaves no temporary file behind', async () => {
    const file = path.join(dir, 'sm.json');
    const store = fileStore(file);
    await Promise.all([store.save(state({ inbound: 1 })), store.save(state({ inbound: 2 })), store.save(state({ inbound: 3 }))]);
    await store.save(state({ inbound: 4 }));
    expect(fs.readdirSync(dir)).toEqual(['sm.json']);
    expect(fs.readdirSync(dir).some((name) => name.endsWith('.tmp'))).toBe(false);
  });

  it('overwrites an existing file in place of the old state', async () => {
    const file = path.join(dir, 'sm.json');
    fs.writeFileSync(file, JSON.stringify(state({ id: 'old' })));
    const store = fileStore(file);
    expect(await store.load()).toMatchObject({ id: 'old' });
    await store.save(state({ id: 'new' }));
    expect(await fileStore(file).load()).toMatchObject({ id: 'new' });
  });
});

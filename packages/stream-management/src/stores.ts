/** One unacknowledged stanza, serialised. */
export interface SerializedStanza {
  /** the stanza's XML */
  xml: string;
  /** when it was first sent (ms since the epoch) */
  stamp: number;
}

/** Everything needed to resume a session in another process or after a page reload. Plain JSON. */
export interface StreamManagementState {
  version: 1;
  /** the SM-ID from `<enabled/>` */
  id: string;
  /** the bound full JID */
  jid: string;
  /** the service the session was on */
  service: string | null;
  /** `<enabled location>`, when the server gave one */
  location: string | null;
  /** `<enabled max>` in seconds, when the server gave one */
  max: number | null;
  /** stanzas received and handled (our `h`) */
  inbound: number;
  /** the last `h` the server acknowledged */
  acked: number;
  /** stanzas not yet acknowledged, oldest first */
  unacked: SerializedStanza[];
  /** when this state was written (ms since the epoch) */
  savedAt: number;
}

/** Where resumable state lives between processes. Each method may return a promise. */
export interface StreamManagementStore {
  load(): StreamManagementState | null | undefined | Promise<StreamManagementState | null | undefined>;
  save(state: StreamManagementState): void | Promise<void>;
  clear(): void | Promise<void>;
}

/** The state a JSON text holds, or null when it holds none (null, corrupt, another version, not a state). */
export function parseState(json: string | null): StreamManagementState | null {
  try {
    const v = JSON.parse(json!) as StreamManagementState | null;
    return v?.version === 1 && typeof v.id === 'string' && typeof v.jid === 'string' && Array.isArray(v.unacked) ? v : null;
  } catch {
    return null;
  }
}

/** Keeps the state in memory (share one store between client objects in the same process). */
export function memoryStore(): StreamManagementStore & { state: StreamManagementState | null } {
  // Stored and handed out as copies, as a real store would.
  const copy = (state: StreamManagementState | null): StreamManagementState | null => JSON.parse(JSON.stringify(state)) as StreamManagementState | null;
  const store = {
    state: null as StreamManagementState | null,
    load: () => copy(store.state),
    save: (state: StreamManagementState | null) => {
      store.state = copy(state);
    },
    clear: () => store.save(null),
  };
  return store;
}

/** The subset of the Web Storage API used (sessionStorage and localStorage both fit). */
export interface WebStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Keeps the state in `sessionStorage` (per tab, survives reloads) or `localStorage`.
 * Unacknowledged stanzas are message plaintext: prefer sessionStorage, and clear it on logout.
 */
export function webStorageStore(storage: WebStorage, key = 'xmppkit:sm'): StreamManagementStore {
  return {
    load: () => parseState(storage.getItem(key)),
    save: (state) => storage.setItem(key, JSON.stringify(state)),
    clear: () => storage.removeItem(key),
  };
}

import { describe, expect, it, vi } from 'vitest';
import { Connection } from '@xmppkit/connection';
import { jid } from '@xmppkit/jid';
import { Context, compose, middleware, type Middleware } from '@xmppkit/middleware';
import { ScriptedServer, tick } from '@xmppkit/test';
import { xml, type Element } from '@xmppkit/xml';

/** A connection that knows its domain and (unless told otherwise) its bound JID. */
function entity(options: { domain?: string; jid?: string | null } = {}): Connection {
  const conn = new Connection({ domain: options.domain ?? 'example.org' });
  const bound = options.jid === undefined ? 'juliet@example.org/balcony' : options.jid;
  conn.jid = bound === null ? null : jid(bound);
  return conn;
}

/** A Connection opened against a ScriptedServer, ready to send. */
async function openConnection() {
  const server = new ScriptedServer();
  const conn = new Connection({ domain: 'localhost', transports: [server.factory] });
  const connecting = conn.connect('memory:');
  const peer = await server.nextConnection();
  await connecting;
  const opening = conn.open();
  await peer.nextHeader();
  peer.sendHeader();
  await opening;
  return { conn, peer };
}

const ctxOf = (stanza: Element, direction: 'incoming' | 'outgoing' = 'incoming', conn = entity()) => new Context(conn, stanza, direction);

describe('compose()', () => {
  it('runs middleware in order, koa-style (down then back up), then `last`', async () => {
    const order: string[] = [];
    const mw = (name: string): Middleware => async (_ctx, next) => {
      order.push(`${name} before`);
      await next();
      order.push(`${name} after`);
    };
    const run = compose([mw('a'), mw('b'), mw('c')]);
    await run(ctxOf(xml('message')), async () => {
      order.push('last');
    });
    expect(order).toEqual(['a before', 'b before', 'c before', 'last', 'c after', 'b after', 'a after']);
  });

  it('passes the same context to every middleware', async () => {
    const seen: Context[] = [];
    const ctx = ctxOf(xml('presence'));
    await compose([
      (c, next) => {
        seen.push(c);
        return next();
      },
      (c) => void seen.push(c),
    ])(ctx);
    expect(seen).toEqual([ctx, ctx]);
  });

  it('stops when a middleware does not call next()', async () => {
    const later = vi.fn();
    const last = vi.fn(async () => undefined);
    await compose([() => 'stop', later])(ctxOf(xml('iq')), last);
    expect(later).not.toHaveBeenCalled();
    expect(last).not.toHaveBeenCalled();
  });

  it('resolves with the value the first middleware returns', async () => {
    await expect(compose([async (_c, next) => `outer(${String(await next())})`, () => 'inner'])(ctxOf(xml('iq')))).resolves.toBe('outer(inner)');
    await expect(compose([])(ctxOf(xml('iq')))).resolves.toBeUndefined();
  });

  it('works with synchronous middleware', async () => {
    const order: number[] = [];
    await compose([
      (_c, next) => {
        order.push(1);
        return next();
      },
      (_c, next) => {
        order.push(2);
        return next();
      },
    ])(ctxOf(xml('iq')));
    expect(order).toEqual([1, 2]);
  });

  it('rejects when next() is called twice', async () => {
    const run = compose([
      async (_c, next) => {
        await next();
        await next();
      },
      () => undefined,
    ]);
    await expect(run(ctxOf(xml('iq')))).rejects.toThrow('next() called more than once');
  });

  it('runs the rest only once even when next() is called twice', async () => {
    const rest = vi.fn();
    const errors: unknown[] = [];
    await compose([
      async (_c, next) => {
        await next();
        await next().catch((e: unknown) => errors.push(e));
      },
      rest,
    ])(ctxOf(xml('iq')));
    expect(rest).toHaveBeenCalledOnce();
    expect(errors).toHaveLength(1);
  });

  it('turns a synchronous throw into a rejection', async () => {
    const err = new Error('sync');
    const run = compose([
      () => {
        throw err;
      },
    ]);
    let result: Promise<unknown> | undefined;
    expect(() => {
      result = run(ctxOf(xml('iq')));
    }).not.toThrow();
    await expect(result).rejects.toBe(err);
  });

  it('propagates an error from downstream to upstream, which can catch it', async () => {
    const err = new Error('deep');
    const caught: unknown[] = [];
    const run = compose([
      async (_c, next) => {
        try {
          await next();
        } catch (e) {
          caught.push(e);
        }
      },
      async (_c, next) => next(),
      async () => {
        throw err;
      },
    ]);
    await expect(run(ctxOf(xml('iq')))).resolves.toBeUndefined();
    expect(caught).toEqual([err]);
  });

  it('rejects with an error thrown by `last`', async () => {
    const err = new Error('last failed');
    const run = compose([(_c, next) => next()]);
    await expect(
      run(ctxOf(xml('iq')), async () => {
        throw err;
      }),
    ).rejects.toBe(err);
  });
});

describe('Context', () => {
  it('exposes name, id, direction, entity and the stanza', () => {
    const conn = entity();
    const stanza = xml('iq', { id: 'q1', type: 'get' });
    const ctx = new Context(conn, stanza, 'incoming');
    expect(ctx.name).toBe('iq');
    expect(ctx.id).toBe('q1');
    expect(ctx.direction).toBe('incoming');
    expect(ctx.entity).toBe(conn);
    expect(ctx.stanza).toBe(stanza);
    expect(ctxOf(xml('iq')).id).toBe('');
  });

  it.each([
    ['message', undefined, 'normal'],
    ['message', 'chat', 'chat'],
    ['presence', undefined, 'available'],
    ['presence', 'unavailable', 'unavailable'],
    ['iq', undefined, ''],
    ['iq', 'result', 'result'],
    ['r', undefined, ''],
  ])('type of <%s type=%s> is "%s"', (name, type, expected) => {
    expect(ctxOf(xml(name, { type })).type).toBe(expected);
    expect(ctxOf(xml(name, { type }), 'outgoing').type).toBe(expected);
  });

  it('reads from and to from the attributes when present', () => {
    const ctx = ctxOf(xml('message', { from: 'romeo@example.net/orchard', to: 'juliet@example.org/balcony' }));
    expect(ctx.from?.toString()).toBe('romeo@example.net/orchard');
    expect(ctx.to?.toString()).toBe('juliet@example.org/balcony');
  });

  it('incoming without from/to: from is the server domain, to is our JID', () => {
    const ctx = ctxOf(xml('iq', { type: 'get', id: '1' }), 'incoming');
    expect(ctx.from?.toString()).toBe('example.org');
    expect(ctx.to?.toString()).toBe('juliet@example.org/balcony');
  });

  it('outgoing without from/to: from is our JID, to is the server domain', () => {
    const ctx = ctxOf(xml('iq', { type: 'get', id: '1' }), 'outgoing');
    expect(ctx.from?.toString()).toBe('juliet@example.org/balcony');
    expect(ctx.to?.toString()).toBe('example.org');
  });

  it('defaults are null when the connection has no JID or no domain', () => {
    const noJid = entity({ jid: null });
    expect(new Context(noJid, xml('message'), 'incoming').to).toBeNull();
    expect(new Context(noJid, xml('message'), 'outgoing').from).toBeNull();
    const noDomain = entity({ domain: '' });
    expect(new Context(noDomain, xml('message'), 'incoming').from).toBeNull();
    expect(new Context(noDomain, xml('message'), 'outgoing').to).toBeNull();
  });

  it.each(['@example.org', 'user@', 'a@b/', 'a b@example.org'])('an unparsable from %j gives null (no throw)', (from) => {
    const ctx = ctxOf(xml('message', { from, to: `x${from}` }));
    expect(ctx.from).toBeNull();
    expect(ctx.local).toBe('');
    expect(ctx.domain).toBe('');
    expect(ctx.resource).toBe('');
  });

  it('an unparsable to gives null', () => {
    expect(ctxOf(xml('message', { to: 'user@' }), 'outgoing').to).toBeNull();
  });

  it('parses a JID once and returns the same object on every read', () => {
    const ctx = ctxOf(xml('message', { from: 'romeo@example.net/orchard' }));
    const first = ctx.from;
    expect(first).not.toBeNull();
    expect(ctx.from).toBe(first);
    expect(ctx.to).toBe(ctx.to);
  });

  it('local/domain/resource are those of from for incoming', () => {
    const ctx = ctxOf(xml('message', { from: 'Romeo@Example.net/Orchard', to: 'juliet@example.org/balcony' }), 'incoming');
    expect([ctx.local, ctx.domain, ctx.resource]).toEqual(['romeo', 'example.net', 'Orchard']);
  });

  it('local/domain/resource are those of to for outgoing', () => {
    const ctx = ctxOf(xml('message', { from: 'juliet@example.org/balcony', to: 'romeo@example.net/orchard' }), 'outgoing');
    expect([ctx.local, ctx.domain, ctx.resource]).toEqual(['romeo', 'example.net', 'orchard']);
  });

  it('local/domain/resource of the defaults: the server incoming, the server outgoing', () => {
    const incoming = ctxOf(xml('iq'), 'incoming');
    expect([incoming.local, incoming.domain, incoming.resource]).toEqual(['', 'example.org', '']);
    const outgoing = ctxOf(xml('iq'), 'outgoing');
    expect([outgoing.local, outgoing.domain, outgoing.resource]).toEqual(['', 'example.org', '']);
  });
});

describe('middleware({ entity }).use()', () => {
  it('sees every element emitted as `element`, stanzas and nonzas alike, in order', async () => {
    const conn = entity();
    const mw = middleware({ entity: conn });
    const seen: Array<[string, string]> = [];
    mw.use((ctx, next) => {
      seen.push([ctx.name, ctx.direction]);
      return next();
    });
    conn.emit('element', xml('message', { from: 'romeo@example.net' }));
    conn.emit('element', xml('presence'));
    conn.emit('element', xml('iq', { type: 'get', id: '1' }));
    conn.emit('element', xml('r', 'urn:xmpp:sm:3'));
    conn.emit('element', xml('stream:features'));
    await tick();
    expect(seen).toEqual([
      ['message', 'incoming'],
      ['presence', 'incoming'],
      ['iq', 'incoming'],
      ['r', 'incoming'],
      ['stream:features', 'incoming'],
    ]);
  });

  it('gives a context bound to the entity and the received element', async () => {
    const conn = entity();
    const mw = middleware({ entity: conn });
    const contexts: Context[] = [];
    mw.use((ctx) => void contexts.push(ctx));
    const el = xml('message', { type: 'chat' });
    conn.emit('element', el);
    await tick();
    expect(contexts).toHaveLength(1);
    expect(contexts[0]?.stanza).toBe(el);
    expect(contexts[0]?.entity).toBe(conn);
    expect(contexts[0]?.from?.toString()).toBe('example.org');
  });

  it('runs several use() middleware in registration order, each deciding about the next', async () => {
    const conn = entity();
    const mw = middleware({ entity: conn });
    const order: string[] = [];
    mw.use((ctx, next) => {
      order.push(`first ${ctx.name}`);
      return ctx.name === 'presence' ? undefined : next();
    });
    mw.use((ctx) => void order.push(`second ${ctx.name}`));
    conn.emit('element', xml('message'));
    conn.emit('element', xml('presence'));
    await tick();
    expect(order).toEqual(['first message', 'second message', 'first presence']);
  });

  it('sees elements received from a server through a real Connection', async () => {
    const { conn, peer } = await openConnection();
    const mw = middleware({ entity: conn });
    const names: string[] = [];
    mw.use((ctx, next) => {
      names.push(ctx.stanza.toString());
      return next();
    });
    peer.send(xml('message', { from: 'romeo@example.net', type: 'chat' }, xml('body', {}, 'hi')));
    peer.send(xml('a', { xmlns: 'urn:xmpp:sm:3', h: 0 }));
    await tick();
    expect(names).toEqual(['<message from="romeo@example.net" type="chat"><body>hi</body></message>', '<a xmlns="urn:xmpp:sm:3" h="0"/>']);
    await conn.stop();
  });

  it('turns a synchronous throw into an `error` event on the entity', async () => {
    const conn = entity();
    const mw = middleware({ entity: conn });
    const err = new Error('bad middleware');
    mw.use(() => {
      throw err;
    });
    const errors: Error[] = [];
    conn.on('error', (e) => errors.push(e));
    expect(() => conn.emit('element', xml('message'))).not.toThrow();
    await tick();
    expect(errors).toEqual([err]);
  });

  it('turns an async rejection into an `error` event on the entity', async () => {
    const conn = entity();
    const mw = middleware({ entity: conn });
    const err = new Error('async failure');
    mw.use(async (_ctx, next) => next());
    mw.use(async () => {
      throw err;
    });
    const errors: Error[] = [];
    conn.on('error', (e) => errors.push(e));
    conn.emit('element', xml('message'));
    await tick();
    expect(errors).toEqual([err]);
  });

  it('wraps a thrown non-Error into an Error', async () => {
    const conn = entity();
    const mw = middleware({ entity: conn });
    mw.use(() => {
      throw 'just a string';
    });
    const errors: Error[] = [];
    conn.on('error', (e) => errors.push(e));
    conn.emit('element', xml('message'));
    await tick();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(Error);
    expect(errors[0]?.message).toBe('just a string');
  });

  it('never crashes when a middleware throws and nobody listens to `error`', async () => {
    const conn = entity();
    const mw = middleware({ entity: conn });
    mw.use(() => {
      throw new Error('nobody listens');
    });
    const after = vi.fn();
    mw.use(after);
    expect(conn.listenerCount('error')).toBe(0);
    expect(() => conn.emit('element', xml('message'))).not.toThrow();
    await tick();
    expect(after).not.toHaveBeenCalled();
    // The next element is still processed.
    const seen = vi.fn();
    conn.on('error', seen);
    conn.emit('element', xml('presence'));
    await tick();
    expect(seen).toHaveBeenCalledOnce();
  });

  it('a middleware that throws for one element still runs for the next', async () => {
    const conn = entity();
    const mw = middleware({ entity: conn });
    const handled: string[] = [];
    mw.use((ctx) => {
      if (ctx.name === 'message') throw new Error('no messages');
      handled.push(ctx.name);
    });
    const errors: Error[] = [];
    conn.on('error', (e) => errors.push(e));
    conn.emit('element', xml('message'));
    conn.emit('element', xml('presence'));
    await tick();
    expect(handled).toEqual(['presence']);
    expect(errors.map((e) => e.message)).toEqual(['no messages']);
  });
});

describe('middleware({ entity }).filter()', () => {
  it('installs entity.outgoing only once a filter is added', () => {
    const conn = entity();
    const mw = middleware({ entity: conn });
    expect(conn.outgoing).toBeNull();
    mw.filter((_ctx, next) => next());
    expect(conn.outgoing).toBeTypeOf('function');
  });

  it('entity.outgoing returns the element when every filter calls next()', async () => {
    const conn = entity();
    const mw = middleware({ entity: conn });
    const contexts: Context[] = [];
    mw.filter((ctx, next) => {
      contexts.push(ctx);
      return next();
    });
    const el = xml('message', { to: 'romeo@example.net/orchard' });
    await expect(conn.outgoing?.(el)).resolves.toBe(el);
    expect(contexts[0]?.direction).toBe('outgoing');
    expect(contexts[0]?.from?.toString()).toBe('juliet@example.org/balcony');
    expect(contexts[0]?.local).toBe('romeo');
  });

  it('entity.outgoing returns null when a filter drops the element', async () => {
    const conn = entity();
    const mw = middleware({ entity: conn });
    const second = vi.fn();
    mw.filter((ctx, next) => (ctx.name === 'presence' ? undefined : next()));
    mw.filter((_ctx, next) => {
      second();
      return next();
    });
    await expect(conn.outgoing?.(xml('presence'))).resolves.toBeNull();
    expect(second).not.toHaveBeenCalled();
    const message = xml('message');
    await expect(conn.outgoing?.(message)).resolves.toBe(message);
    expect(second).toHaveBeenCalledOnce();
  });

  it('entity.outgoing returns the replacement when a filter assigns ctx.stanza', async () => {
    const conn = entity();
    const mw = middleware({ entity: conn });
    mw.filter((ctx, next) => {
      ctx.stanza = xml('message', { ...ctx.stanza.attrs, id: 'replaced' }, ...ctx.stanza.children);
      return next();
    });
    const original = xml('message', { to: 'a@b' }, xml('body', {}, 'hi'));
    const out = await conn.outgoing?.(original);
    expect(out?.toString()).toBe('<message to="a@b" id="replaced"><body>hi</body></message>');
    expect(original.attrs.id).toBeUndefined();
  });

  it('runs filters in registration order', async () => {
    const conn = entity();
    const mw = middleware({ entity: conn });
    const order: string[] = [];
    for (const name of ['one', 'two', 'three']) {
      mw.filter(async (_ctx, next) => {
        order.push(`${name} before`);
        await next();
        order.push(`${name} after`);
      });
    }
    await conn.outgoing?.(xml('iq'));
    expect(order).toEqual(['one before', 'two before', 'three before', 'three after', 'two after', 'one after']);
  });

  it('does not run incoming middleware for outgoing elements, nor filters for incoming ones', async () => {
    const conn = entity();
    const mw = middleware({ entity: conn });
    const incoming = vi.fn((_ctx: Context, next: () => Promise<unknown>) => next());
    const outgoing = vi.fn((_ctx: Context, next: () => Promise<unknown>) => next());
    mw.use(incoming);
    mw.filter(outgoing);
    await conn.outgoing?.(xml('message'));
    expect(incoming).not.toHaveBeenCalled();
    expect(outgoing).toHaveBeenCalledOnce();
    conn.emit('element', xml('message'));
    await tick();
    expect(incoming).toHaveBeenCalledOnce();
    expect(outgoing).toHaveBeenCalledOnce();
  });

  it('through Connection.send: a filter changes what the server receives', async () => {
    const { conn, peer } = await openConnection();
    const mw = middleware({ entity: conn });
    mw.filter((ctx, next) => {
      if (ctx.stanza.is('message')) ctx.stanza.attrs.id = 'stamped';
      return next();
    });
    const sent: string[] = [];
    conn.on('send', (el) => sent.push(el.toString()));
    await conn.send(xml('message', { to: 'romeo@example.net' }, xml('body', {}, 'hi')));
    const received = await peer.next('message');
    expect(received.attrs).toEqual({ to: 'romeo@example.net', id: 'stamped' });
    expect(received.getChildText('body')).toBe('hi');
    expect(sent).toEqual(['<message to="romeo@example.net" id="stamped"><body>hi</body></message>']);
    await conn.stop();
  });

  it('through Connection.send: a filter replaces the element', async () => {
    const { conn, peer } = await openConnection();
    const mw = middleware({ entity: conn });
    mw.filter((ctx, next) => {
      ctx.stanza = xml('presence', { type: 'unavailable' });
      return next();
    });
    await conn.send(xml('presence'));
    const received = await peer.next();
    expect(received.toString()).toBe('<presence type="unavailable"/>');
    await conn.stop();
  });

  it('through Connection.send: a dropped element is neither written nor reported as sent', async () => {
    const { conn, peer } = await openConnection();
    const mw = middleware({ entity: conn });
    mw.filter((ctx, next) => (ctx.stanza.is('presence') ? undefined : next()));
    const sent: string[] = [];
    conn.on('send', (el) => sent.push(el.name));
    await expect(conn.send(xml('presence'))).resolves.toBeUndefined();
    await conn.send(xml('message', { to: 'romeo@example.net' }));
    const received = await peer.next();
    expect(received.name).toBe('message');
    expect(peer.received.map((el) => el.name)).toEqual(['message']);
    expect(sent).toEqual(['message']);
    await conn.stop();
  });

  it('through Connection.send: a throwing filter rejects send() and writes nothing', async () => {
    const { conn, peer } = await openConnection();
    const mw = middleware({ entity: conn });
    const err = new Error('filter failed');
    mw.filter(() => {
      throw err;
    });
    await expect(conn.send(xml('message'))).rejects.toBe(err);
    await tick();
    expect(peer.received).toEqual([]);
    await conn.stop();
  });
});

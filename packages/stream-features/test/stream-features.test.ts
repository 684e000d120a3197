import { describe, expect, it, vi } from 'vitest';
import { Connection } from '@xmppkit/connection';
import { middleware, type Context } from '@xmppkit/middleware';
import { NS_STREAMS, streamFeatures, type FeatureHandler } from '@xmppkit/stream-features';
import { ScriptedServer, tick } from '@xmppkit/test';
import { xml, type Element } from '@xmppkit/xml';

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const NS_SM = 'urn:xmpp:sm:3';
const NS_CSI = 'urn:xmpp:csi:0';

function setup() {
  const entity = new Connection({ domain: 'localhost' });
  const mw = middleware({ entity });
  const sf = streamFeatures({ middleware: mw, entity });
  const errors: Error[] = [];
  entity.on('error', (e) => errors.push(e));
  return { entity, mw, sf, errors };
}

const features = (...children: Element[]): Element => xml('stream:features', { 'xmlns:stream': NS_STREAMS }, ...children);

/** A handler that records its name and lets the next feature run. */
const passing =
  (log: string[], name: string): FeatureHandler =>
  async (_ctx, next) => {
    log.push(name);
    await next();
  };

describe('streamFeatures()', () => {
  it('runs offered features in priority order, highest first, whatever the registration order', async () => {
    const { entity, sf } = setup();
    const log: string[] = [];
    sf.use('bind', NS_BIND, passing(log, 'bind'), 100);
    sf.use('sm', NS_SM, passing(log, 'sm'), 50);
    sf.use('mechanisms', NS_SASL, passing(log, 'sasl'), 1000);
    sf.use('csi', NS_CSI, passing(log, 'csi'));
    // The server's order does not matter either.
    entity.emit('element', features(xml('csi', NS_CSI), xml('sm', NS_SM), xml('bind', NS_BIND), xml('mechanisms', NS_SASL)));
    await tick();
    expect(log).toEqual(['sasl', 'bind', 'sm', 'csi']);
  });

  it('lists registered features highest priority first, default priority 0', () => {
    const { sf } = setup();
    const noop: FeatureHandler = () => undefined;
    sf.use('low', 'urn:low', noop, -5);
    sf.use('default', 'urn:default', noop);
    sf.use('high', 'urn:high', noop, 10);
    expect(sf.features.map((f) => [f.name, f.xmlns, f.priority])).toEqual([
      ['high', 'urn:high', 10],
      ['default', 'urn:default', 0],
      ['low', 'urn:low', -5],
    ]);
    expect(sf.features[0]?.handler).toBe(noop);
  });

  it('keeps registration order among features of equal priority', async () => {
    const { entity, sf } = setup();
    const log: string[] = [];
    sf.use('a', 'urn:a', passing(log, 'a'), 10);
    sf.use('b', 'urn:b', passing(log, 'b'), 10);
    sf.use('c', 'urn:c', passing(log, 'c'), 10);
    entity.emit('element', features(xml('c', 'urn:c'), xml('b', 'urn:b'), xml('a', 'urn:a')));
    await tick();
    expect(log).toEqual(['a', 'b', 'c']);
  });

  it('runs only the features the server offers, matching name and namespace', async () => {
    const { entity, sf } = setup();
    const log: string[] = [];
    sf.use('mechanisms', NS_SASL, passing(log, 'sasl'), 1000);
    sf.use('bind', NS_BIND, passing(log, 'bind'), 100);
    sf.use('sm', NS_SM, passing(log, 'sm'), 50);
    // <sm/> in another namespace is not the registered feature.
    entity.emit('element', features(xml('bind', NS_BIND), xml('sm', 'urn:xmpp:sm:2')));
    await tick();
    expect(log).toEqual(['bind']);
  });

  it('runs nothing for empty features', async () => {
    const { entity, sf, errors } = setup();
    const handler = vi.fn();
    sf.use('bind', NS_BIND, handler);
    entity.emit('element', features());
    await tick();
    expect(handler).not.toHaveBeenCalled();
    expect(errors).toEqual([]);
  });

  it('passes the context of the <stream:features/> and the offered feature element', async () => {
    const { entity, sf } = setup();
    const calls: Array<{ ctx: Context; feature: Element }> = [];
    sf.use('mechanisms', NS_SASL, (ctx, _next, feature) => void calls.push({ ctx, feature }));
    const mechanisms = xml('mechanisms', NS_SASL, xml('mechanism', {}, 'SCRAM-SHA-1'), xml('mechanism', {}, 'PLAIN'));
    const el = features(mechanisms);
    entity.emit('element', el);
    await tick();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.ctx.stanza).toBe(el);
    expect(calls[0]?.ctx.entity).toBe(entity);
    expect(calls[0]?.feature).toBe(mechanisms);
    expect(calls[0]?.feature.getChildren('mechanism').map((m) => m.text())).toEqual(['SCRAM-SHA-1', 'PLAIN']);
  });

  it('recognises <features xmlns="http://etherx.jabber.org/streams"/> as well as the stream: prefix', async () => {
    const { entity, sf } = setup();
    const log: string[] = [];
    sf.use('bind', NS_BIND, passing(log, 'bind'));
    entity.emit('element', xml('features', NS_STREAMS, xml('bind', NS_BIND)));
    await tick();
    expect(log).toEqual(['bind']);
  });

  it('a handler that does not call next() stops the lower-priority features', async () => {
    const { entity, sf } = setup();
    const log: string[] = [];
    sf.use('mechanisms', NS_SASL, passing(log, 'sasl'), 1000);
    sf.use('starttls', 'urn:ietf:params:xml:ns:xmpp-tls', () => void log.push('stop here'), 500);
    sf.use('bind', NS_BIND, passing(log, 'bind'), 100);
    entity.emit('element', features(xml('mechanisms', NS_SASL), xml('starttls', 'urn:ietf:params:xml:ns:xmpp-tls'), xml('bind', NS_BIND)));
    await tick();
    expect(log).toEqual(['sasl', 'stop here']);
  });

  it('waits for an async handler before the next feature, and unwinds koa-style', async () => {
    const { entity, sf } = setup();
    const log: string[] = [];
    sf.use(
      'mechanisms',
      NS_SASL,
      async (_ctx, next) => {
        log.push('sasl start');
        await Promise.resolve();
        log.push('sasl done');
        await next();
        log.push('sasl after');
      },
      10,
    );
    sf.use('bind', NS_BIND, async () => void log.push('bind'), 5);
    entity.emit('element', features(xml('mechanisms', NS_SASL), xml('bind', NS_BIND)));
    await tick();
    expect(log).toEqual(['sasl start', 'sasl done', 'bind', 'sasl after']);
  });

  it('a handler calling next() twice runs the lower features once; the second call rejects, as in middleware', async () => {
    const { entity, sf, errors } = setup();
    const bind = vi.fn();
    sf.use(
      'mechanisms',
      NS_SASL,
      async (_ctx, next) => {
        await next();
        await next();
      },
      10,
    );
    sf.use('bind', NS_BIND, bind, 5);
    entity.emit('element', features(xml('mechanisms', NS_SASL), xml('bind', NS_BIND)));
    await tick();
    expect(bind).toHaveBeenCalledOnce();
    expect(errors.map((e) => e.message)).toEqual(['next() called more than once']);
  });

  it('passes non-features elements through to later middleware', async () => {
    const { entity, mw, sf } = setup();
    const handler = vi.fn();
    sf.use('bind', NS_BIND, handler);
    const later: string[] = [];
    mw.use((ctx, next) => {
      later.push(ctx.name);
      return next();
    });
    entity.emit('element', xml('message', { from: 'romeo@example.net' }));
    entity.emit('element', xml('iq', { type: 'get', id: '1' }, xml('bind', NS_BIND)));
    entity.emit('element', features(xml('bind', NS_BIND)));
    entity.emit('element', xml('r', NS_SM));
    await tick();
    // <stream:features/> is consumed; everything else reaches the later middleware.
    expect(later).toEqual(['message', 'iq', 'r']);
    expect(handler).toHaveBeenCalledOnce();
  });

  it('a handler that throws becomes an `error` event, and the rest do not run', async () => {
    const { entity, sf, errors } = setup();
    const err = new Error('feature failed');
    const after = vi.fn();
    sf.use(
      'mechanisms',
      NS_SASL,
      () => {
        throw err;
      },
      10,
    );
    sf.use('bind', NS_BIND, after, 5);
    expect(() => entity.emit('element', features(xml('mechanisms', NS_SASL), xml('bind', NS_BIND)))).not.toThrow();
    await tick();
    expect(errors).toEqual([err]);
    expect(after).not.toHaveBeenCalled();
  });

  it('an async handler rejecting after next() becomes one `error` event', async () => {
    const { entity, sf, errors } = setup();
    const log: string[] = [];
    sf.use('bind', NS_BIND, passing(log, 'bind'), 10);
    sf.use(
      'sm',
      NS_SM,
      async () => {
        log.push('sm');
        throw new Error('enable refused');
      },
      5,
    );
    entity.emit('element', features(xml('bind', NS_BIND), xml('sm', NS_SM)));
    await tick();
    expect(log).toEqual(['bind', 'sm']);
    expect(errors.map((e) => e.message)).toEqual(['enable refused']);
  });

  it('wraps a thrown non-Error into an Error', async () => {
    const { entity, sf, errors } = setup();
    sf.use('bind', NS_BIND, () => {
      throw 'not an error object';
    });
    entity.emit('element', features(xml('bind', NS_BIND)));
    await tick();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(Error);
    expect(errors[0]?.message).toBe('not an error object');
  });

  it('keeps working after a handler threw', async () => {
    const { entity, sf, errors } = setup();
    let calls = 0;
    sf.use('bind', NS_BIND, () => {
      calls++;
      if (calls === 1) throw new Error('first time only');
    });
    entity.emit('element', features(xml('bind', NS_BIND)));
    await tick();
    entity.emit('element', features(xml('bind', NS_BIND)));
    await tick();
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
  });

  it('never crashes when a handler throws and nobody listens to `error`', async () => {
    const entity = new Connection({ domain: 'localhost' });
    const mw = middleware({ entity });
    const sf = streamFeatures({ middleware: mw, entity });
    sf.use('bind', NS_BIND, () => {
      throw new Error('unheard');
    });
    expect(entity.listenerCount('error')).toBe(0);
    expect(() => entity.emit('element', features(xml('bind', NS_BIND)))).not.toThrow();
    await tick();
    // Still alive: the next features are handled.
    const seen = vi.fn();
    entity.on('error', seen);
    entity.emit('element', features(xml('bind', NS_BIND)));
    await tick();
    expect(seen).toHaveBeenCalledOnce();
  });

  it('negotiates the features a ScriptedServer sends over a real Connection', async () => {
    const server = new ScriptedServer();
    const entity = new Connection({ domain: 'localhost', transports: [server.factory] });
    const mw = middleware({ entity });
    const sf = streamFeatures({ middleware: mw, entity });
    const log: string[] = [];
    sf.use(
      'mechanisms',
      NS_SASL,
      async (ctx, next, feature) => {
        log.push(`sasl ${feature.getChildText('mechanism') ?? ''}`);
        await ctx.entity.send(xml('auth', { xmlns: NS_SASL, mechanism: 'PLAIN' }));
        // Authentication restarts the stream, so lower features wait for the next <stream:features/>.
      },
      1000,
    );
    sf.use('bind', NS_BIND, passing(log, 'bind'), 100);

    const connecting = entity.connect('memory:');
    const peer = await server.nextConnection();
    await connecting;
    const opening = entity.open();
    await peer.nextHeader();
    peer.sendHeader();
    await opening;
    peer.sendFeatures(xml('mechanisms', NS_SASL, xml('mechanism', {}, 'PLAIN')), xml('bind', NS_BIND));
    const auth = await peer.next('auth');
    expect(auth.attrs.mechanism).toBe('PLAIN');
    expect(log).toEqual(['sasl PLAIN']);

    peer.sendFeatures(xml('bind', NS_BIND));
    await tick();
    expect(log).toEqual(['sasl PLAIN', 'bind']);
    await entity.stop();
  });
});

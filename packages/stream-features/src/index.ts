import type { Connection } from '@xmppkit/connection';
import type { Context, MiddlewareManager, Next } from '@xmppkit/middleware';
import type { Element } from '@xmppkit/xml';

export const NS_STREAMS = 'http://etherx.jabber.org/streams';

/** Negotiates one feature; calls `next()` to let lower-priority features run on the same `<stream:features/>`. */
export type FeatureHandler = (ctx: Context, next: Next, feature: Element) => unknown;

export interface Feature {
  name: string;
  xmlns: string;
  /** higher runs first (SASL 1000, resumption 500, binding 100, stream management enable 50) */
  priority: number;
  handler: FeatureHandler;
}

export interface StreamFeatures {
  /** register a handler for a feature child `<name xmlns=.../>` of `<stream:features/>` */
  use(name: string, xmlns: string, handler: FeatureHandler, priority?: number): void;
  /** the registered features, highest priority first */
  readonly features: readonly Feature[];
}

function isFeatures(el: Element): boolean {
  return el.name === 'stream:features' || (el.name === 'features' && el.attrs.xmlns === NS_STREAMS);
}

/**
 * Routes each `<stream:features/>` to the registered features in priority order.
 * Only features the server offers run; each decides whether the next one runs.
 */
export function streamFeatures({ middleware, entity }: { middleware: MiddlewareManager; entity: Connection }): StreamFeatures {
  const features: Feature[] = [];

  // Not async: everything but <stream:features/> passes straight on, with no promise of its own.
  middleware.use((ctx, next) => (isFeatures(ctx.stanza) ? negotiate(ctx) : next()));

  const negotiate = async (ctx: Context): Promise<undefined> => {
    const el = ctx.stanza;
    const offered = features.map((f) => ({ f, child: el.getChild(f.name, f.xmlns) })).filter((x): x is { f: Feature; child: Element } => x.child !== undefined);
    const run = async (i: number): Promise<unknown> => {
      const item = offered[i];
      if (!item) return undefined;
      return item.f.handler(ctx, () => run(i + 1), item.child);
    };
    try {
      await run(0);
    } catch (err) {
      entity.emitError(err instanceof Error ? err : new Error(String(err)));
    }
    return undefined;
  };

  return new FeatureRegistry(features);
}

// A class rather than an object literal with a getter: its methods live on the prototype, so each
// client carries only the one field (a literal with an accessor costs a few hundred bytes per client).
class FeatureRegistry implements StreamFeatures {
  constructor(readonly features: Feature[]) {}

  use(name: string, xmlns: string, handler: FeatureHandler, priority = 0): void {
    this.features.push({ name, xmlns, handler, priority });
    this.features.sort((a, b) => b.priority - a.priority);
  }
}

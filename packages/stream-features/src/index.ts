import { NS_STREAMS, type Connection } from '@xmppkit/connection';
import { compose, type Context, type MiddlewareManager, type Next } from '@xmppkit/middleware';
import type { Element } from '@xmppkit/xml';

export { NS_STREAMS };

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

/**
 * Routes each `<stream:features/>` to the registered features in priority order.
 * Only features the server offers run; each decides whether the next one runs.
 */
export function streamFeatures({ middleware }: { middleware: MiddlewareManager; entity: Connection }): StreamFeatures {
  const registry = new FeatureRegistry();
  const features = registry.features;

  // Not async: everything but <stream:features/> passes straight on, with no promise of its own.
  // The offered features run koa-style, like middleware; a handler that throws rejects the chain,
  // which the middleware turns into an `error` event.
  middleware.use((ctx, next) => {
    const el = ctx.stanza;
    if (el.name !== 'stream:features' && (el.name !== 'features' || el.attrs.xmlns !== NS_STREAMS)) return next();
    const offered = features.flatMap((f) => {
      const feature = el.getChild(f.name, f.xmlns);
      return feature ? [(c: Context, n: Next) => f.handler(c, n, feature)] : [];
    });
    return compose(offered)(ctx);
  });

  return registry;
}

// A class rather than an object literal with a getter: its methods live on the prototype, so each
// client carries only the one field (a literal with an accessor costs a few hundred bytes per client).
class FeatureRegistry implements StreamFeatures {
  readonly features: Feature[] = [];

  use(name: string, xmlns: string, handler: FeatureHandler, priority = 0): void {
    this.features.push({ name, xmlns, handler, priority });
    this.features.sort((a, b) => b.priority - a.priority);
  }
}

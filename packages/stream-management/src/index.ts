import type { Client } from '@xmppkit/client-core';
import type { StreamFeatures } from '@xmppkit/stream-features';
import { StreamManagement, type StreamManagementOptions } from './StreamManagement.js';

export { StreamManagement, NS_SM, NS_DELAY, delta, type StreamManagementOptions, type StreamManagementEvents, type EnabledInfo } from './StreamManagement.js';
export { StreamManagementError, type StreamManagementCondition } from './errors.js';
export { memoryStore, webStorageStore, type StreamManagementStore, type StreamManagementState, type SerializedStanza, type WebStorage } from './stores.js';

/** Stream Management for a client built on client-core and stream-features. */
export function streamManagement({ entity, streamFeatures }: { entity: Client; streamFeatures: StreamFeatures }, options?: StreamManagementOptions): StreamManagement {
  return new StreamManagement(entity, streamFeatures, options);
}

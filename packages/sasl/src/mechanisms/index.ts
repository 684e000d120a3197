export { base64Decode, base64Encode } from './util.js';
export { saslprep } from './saslprep.js';
export type { SASLprepOptions } from './saslprep.js';
export { plain } from './plain.js';
export { anonymous, anonymousWithTrace } from './anonymous.js';
export { MAX_SCRAM_ITERATIONS, ScramCache, escapeSaslname, scramSha1, scramSha256, scramSha512 } from './scram.js';
export type { ScramHash } from './scram.js';
export type { Credentials, Mechanism, MechanismContext, MechanismSession, ScramKeyInputs, ScramKeys } from './types.js';

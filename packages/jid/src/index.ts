export { JID, jid, parse, equal } from './JID.js';
export { InvalidJIDError, type JIDPart } from './InvalidJIDError.js';
export { detectEscape, escapeLocal, unescapeLocal } from './escaping.js';
export { MAX_PART_BYTES } from './validate.js';

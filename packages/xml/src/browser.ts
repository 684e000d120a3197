// The browser entry (the `browser` export condition): the same exports as index.ts, but parse() runs
// on the platform's DOMParser, so a bundle that parses only with parse() (the WebSocket transport)
// leaves the streaming Parser and unescapeXML out. (Not `export *` from index.js: the package's
// `browser` field maps index.js to this file.)
export { Element, type Attrs, type Node } from './Element.js';
export { xml, type AttrsInput, type Child } from './xml.js';
export { Parser, DEFAULT_MAX_STANZA_SIZE, type ParserOptions, type ParserEvents } from './Parser.js';
export { XMLError } from './XMLError.js';
export { escapeXML, escapeXMLText, unescapeXML } from './escape.js';
export { parse } from './parseDOM.js';

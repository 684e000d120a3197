export { Element, type Attrs, type Node } from './Element.js';
export { xml, type AttrsInput, type Child } from './xml.js';
export { Parser, DEFAULT_MAX_STANZA_SIZE, type ParserOptions, type ParserEvents } from './Parser.js';
export { XMLError } from './XMLError.js';
export { escapeXML, escapeXMLText, unescapeXML } from './escape.js';
export { parse } from './parse.js';

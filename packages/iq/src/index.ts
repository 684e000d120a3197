export { id, iqCaller, isValidReplyFrom, type IQCaller, type IQCallerOptions } from './caller.js';
export { iqCallee, iqError, pingResponder, NS_PING, NS_STANZAS, type IQCallee, type IQHandler } from './callee.js';

export { invokeAll$, type InvokeAllConfig } from './invokeAll.js';
export { invokeRace$ } from './invokeRace.js';
export { invokeHedge$, type InvokeHedgeConfig } from './invokeHedge.js';
export { socketLimitOf } from './sockets.js';
export type { FanOutBaseConfig, FanOutEnd, FanOutEvent, FanOutInputs, FanOutValue, SocketLimitWarning } from './types.js';

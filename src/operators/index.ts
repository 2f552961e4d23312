export { decodeUtf8, type DecodeUtf8Config } from './decodeUtf8.js';
export { splitLines, type SplitLinesConfig } from './splitLines.js';
export { parseJsonLines } from './parseJsonLines.js';
export { parseSse, type SseEvent } from './parseSse.js';
export { tokens, type TokensConfig } from './tokens.js';
export { tokenEvents, type TokenEvent, type TokenUsage } from './tokenEvents.js';
export { collectText } from './collectText.js';
export { mapStreamErrors, type MapStreamErrorsConfig } from './mapStreamErrors.js';
export {
  retryOnStreamFailure,
  type RetryOnStreamFailureConfig,
  type RetryNotice,
} from './retryOnStreamFailure.js';
export { streamMetrics, type StreamMetrics } from './streamMetrics.js';
export { batchTokens, type BatchTokensConfig, type TokenBatch } from './batchTokens.js';
export { toMessageEvent, type ToMessageEventConfig, type SseMessageEvent, type SseErrorData } from './toMessageEvent.js';

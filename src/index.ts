export { fetchBytes$, type FetchBytesConfig } from './fetchBytes.js';
export { invoke$, type InvokeInput, type InvokeConfig, type JsonBody, type StreamResponseMetadata } from './invoke.js';
export { SageMakerStreamError, type SageMakerStreamErrorKind, type SageMakerStreamErrorInit } from './errors/SageMakerStreamError.js';
export * from './operators/index.js';
export { TOKEN_FORMATS, type TokenFormat } from './formats/schemas.js';
export * from './fanout/index.js';
export {
  fastEventStreamSerdeProvider,
  fastEventStreamStats,
  type EventStreamSerdeProvider,
  type FastEventStreamStats,
} from './eventstream/index.js';

export {
  startEmulator,
  type Emulator,
  type EmulatorConfig,
  type EmulatorEndpoint,
  type EmulatorResponse,
  type EmulatorTokenStream,
  type EmulatorFault,
  type EmulatorError,
  type RecordedRequest,
} from './emulator.js';
export { splitBytes } from './split.js';
export { renderStream, CONTAINER_FORMATS, type ContainerFormat, type RenderOptions, type RenderedStream } from './render.js';

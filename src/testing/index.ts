export {
  startEmulator,
  type Emulator,
  type EmulatorConfig,
  type EmulatorEndpoint,
  type EmulatorResponse,
  type EmulatorFault,
  type EmulatorError,
  type RecordedRequest,
} from './emulator.js';
export { splitBytes } from './split.js';

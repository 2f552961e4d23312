import type { SageMakerRuntimeClientConfig } from '@aws-sdk/client-sagemaker-runtime';
import type { JsonBody } from 'rx-sagemaker';

/** What {@link ChatModule.forRoot} needs: the endpoint, the client settings and the limits. */
export interface ChatModuleOptions {
  /** The SageMaker endpoint to stream from. */
  readonly endpointName: string;
  /**
   * Settings of the one `SageMakerRuntimeClient` the module creates (and destroys on shutdown):
   * region, credentials, `endpoint` (e.g. the emulator's URL), `maxAttempts`.
   */
  readonly clientConfig?: SageMakerRuntimeClientConfig | undefined;
  /** The request body for a prompt. Default: TGI / LMI `{ inputs, parameters, stream: true }`. */
  readonly body?: ((prompt: string) => JsonBody) | undefined;
  /** The longest wait for the first token, in ms. Default 60 000. */
  readonly firstByteTimeout?: number | undefined;
  /** The longest silence between two parts of the answer, in ms. Default 15 000. */
  readonly idleTimeout?: number | undefined;
  /** The longest prompt accepted, in characters. Default 4000. */
  readonly maxPromptLength?: number | undefined;
}

/** The injection token of the {@link ChatModuleOptions}. */
export const CHAT_OPTIONS = Symbol('CHAT_OPTIONS');

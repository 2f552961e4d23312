import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { ChatController } from './chat.controller';
import { CHAT_OPTIONS, type ChatModuleOptions } from './chat.options';
import { ChatService } from './chat.service';

/**
 * `GET /chat?prompt=...` streaming a SageMaker endpoint's answer as server-sent events.
 *
 * The module creates one `SageMakerRuntimeClient` (its sockets, credentials and retry quota are
 * shared by every request), provides it under its class, and destroys it when the application
 * shuts down.
 */
@Module({})
export class ChatModule implements OnApplicationShutdown {
  static forRoot(options: ChatModuleOptions): DynamicModule {
    return {
      module: ChatModule,
      controllers: [ChatController],
      providers: [
        { provide: CHAT_OPTIONS, useValue: options },
        { provide: SageMakerRuntimeClient, useFactory: () => new SageMakerRuntimeClient(options.clientConfig ?? {}) },
        ChatService,
      ],
    };
  }

  constructor(private readonly client: SageMakerRuntimeClient) {}

  onApplicationShutdown(): void {
    this.client.destroy();
  }
}

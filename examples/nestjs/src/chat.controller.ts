import { BadRequestException, Controller, Inject, Query, Sse, type MessageEvent } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { CHAT_OPTIONS, type ChatModuleOptions } from './chat.options';
import { ChatService } from './chat.service';

@Controller()
export class ChatController {
  constructor(
    private readonly chat: ChatService,
    @Inject(CHAT_OPTIONS) private readonly options: ChatModuleOptions,
  ) {}

  /**
   * `GET /chat?prompt=...` → `text/event-stream`. A missing or too long prompt is a 400 before
   * anything is sent to SageMaker.
   */
  @Sse('chat')
  chatStream(@Query('prompt') prompt: unknown): Observable<MessageEvent> {
    const max = this.options.maxPromptLength ?? 4000;
    if (typeof prompt !== 'string' || prompt.trim() === '') {
      throw new BadRequestException('The query parameter "prompt" is required.');
    }
    if (prompt.length > max) {
      throw new BadRequestException(`The prompt is longer than ${max} characters.`);
    }
    return this.chat.answer$(prompt);
  }
}

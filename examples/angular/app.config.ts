import { provideBrowserGlobalErrorListeners, provideZonelessChangeDetection, type ApplicationConfig } from '@angular/core';
import { provideLlmRelay } from './llm-stream.service';

/**
 * `bootstrapApplication(LlmAnswerComponent, appConfig)` (from `@angular/platform-browser`).
 *
 * Zoneless, the default for new Angular 21 apps: a signal set by `batchTokens()` once per frame is
 * what schedules rendering. For a zone.js app, use `provideZoneChangeDetection({ eventCoalescing: true })`
 * instead and change nothing else (see README.md next to this file).
 */
export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideZonelessChangeDetection(),
    // Your server relays the stream (AWS credentials never reach the browser).
    provideLlmRelay('/api/llm/stream'),
  ],
};

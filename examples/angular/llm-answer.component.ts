import { ChangeDetectionStrategy, Component, DestroyRef, computed, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import type { Subscription } from 'rxjs';
import { batchTokens, SageMakerStreamError } from 'rx-sagemaker';
import { LlmStreamService } from './llm-stream.service';

type AnswerStatus = 'idle' | 'streaming' | 'done' | 'stopped' | 'failed';

/**
 * Asks a question and shows the answer as it streams, rendered once per animation frame (not once
 * per token), with a stop button. Works the same in zoneless and zone.js apps.
 */
@Component({
  selector: 'app-llm-answer',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <form (submit)="$event.preventDefault(); ask(prompt.value)">
      <textarea #prompt rows="3" aria-label="Your question"></textarea>
      <button type="submit">Ask</button>
      <button type="button" (click)="stop()" [disabled]="!streaming()">Stop</button>
    </form>
    <p class="answer" aria-live="polite" [attr.aria-busy]="streaming()">{{ answer() }}</p>
    @switch (status()) {
      @case ('stopped') {
        <p class="note">Stopped.</p>
      }
      @case ('failed') {
        <p class="error" role="alert">{{ error() }}</p>
      }
    }
  `,
  styles: `
    .answer {
      white-space: pre-wrap;
    }
  `,
})
export class LlmAnswerComponent {
  private readonly llm = inject(LlmStreamService);
  private readonly destroyRef = inject(DestroyRef);
  private current: Subscription | undefined;

  readonly answer = signal('');
  readonly status = signal<AnswerStatus>('idle');
  readonly error = signal('');
  readonly streaming = computed(() => this.status() === 'streaming');

  ask(prompt: string): void {
    if (prompt.trim() === '') return;
    this.current?.unsubscribe(); // a new question cancels the previous answer's request
    this.answer.set('');
    this.error.set('');
    this.status.set('streaming');
    this.current = this.llm
      .stream(prompt)
      .pipe(
        // One signal update (and so one render) per animation frame, whatever the token rate.
        batchTokens(),
        // Last: destroying the component aborts the request and cancels the pending frame.
        takeUntilDestroyed(this.destroyRef),
      )
      .subscribe({
        next: (text) => this.answer.update((answer) => answer + text),
        error: (err: unknown) => {
          this.status.set('failed');
          // SageMakerStreamError messages are safe to show; anything else gets a generic one.
          this.error.set(SageMakerStreamError.isInstance(err) ? err.message : 'The answer could not be loaded.');
        },
        complete: () => {
          if (this.status() === 'streaming') this.status.set('done');
        },
      });
  }

  stop(): void {
    if (!this.streaming()) return;
    this.current?.unsubscribe(); // aborts the request; the relay sees the connection close
    this.current = undefined;
    this.status.set('stopped');
  }
}

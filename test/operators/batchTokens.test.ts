import { from, queueScheduler, Subject, take, toArray, lastValueFrom, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { batchTokens } from '../../src/operators/batchTokens.js';
import type { TokenEvent } from '../../src/operators/tokenEvents.js';

let scheduler: TestScheduler;
beforeEach(() => {
  scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
});

const event = (text: string, index: number, extra: Partial<TokenEvent> = {}): TokenEvent => ({
  text,
  format: 'tgi',
  index,
  special: false,
  ...extra,
});

/** Installs a fake `requestAnimationFrame`/`cancelAnimationFrame` pair for one test. */
function fakeAnimationFrames(): { requested: number[]; cancelled: number[]; run: () => void; restore: () => void } {
  const g = globalThis as { requestAnimationFrame?: unknown; cancelAnimationFrame?: unknown };
  const saved = { request: g.requestAnimationFrame, cancel: g.cancelAnimationFrame };
  const callbacks = new Map<number, FrameRequestCallback>();
  const requested: number[] = [];
  const cancelled: number[] = [];
  let nextId = 1;
  g.requestAnimationFrame = (cb: FrameRequestCallback): number => {
    const id = nextId++;
    callbacks.set(id, cb);
    requested.push(id);
    return id;
  };
  g.cancelAnimationFrame = (id: number): void => {
    callbacks.delete(id);
    cancelled.push(id);
  };
  return {
    requested,
    cancelled,
    run() {
      const due = [...callbacks.values()];
      callbacks.clear();
      for (const cb of due) cb(0);
    },
    restore() {
      if (saved.request === undefined) delete g.requestAnimationFrame;
      else g.requestAnimationFrame = saved.request;
      if (saved.cancel === undefined) delete g.cancelAnimationFrame;
      else g.cancelAnimationFrame = saved.cancel;
    },
  };
}

/**
 * An endless synchronous source that counts how many tokens were pulled from it. It throws after
 * 1000 tokens, so that a source that is not stopped fails the test instead of hanging it.
 */
function endless(): { source: Observable<string>; pulled: () => number } {
  let pulled = 0;
  function* generate(): Generator<string> {
    for (;;) {
      if (pulled >= 1000) throw new Error('the synchronous source was not stopped');
      yield String.fromCharCode(97 + (pulled++ % 26));
    }
  }
  return { source: from(generate()), pulled: () => pulled };
}

describe('batchTokens: time windows', () => {
  test('emits the text of each window of interval ms, as in the documented marble', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b---c-d-e-|', { a: 'H', b: 'el', c: 'lo', d: ' 🦙', e: '!' });
      expectObservable(source.pipe(batchTokens({ interval: 3, scheduler }))).toBe('----x-----y--(z|)', {
        x: 'Hel',
        y: 'lo 🦙',
        z: '!',
      });
      expectSubscriptions(source.subscriptions).toBe('^------------!');
    });
  });

  test('starts a window at the first token of a batch, not on a fixed clock', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('a 7ms b-c 10ms |');
      // a at 0 → flushed at 5; b at 8 and c at 10 → flushed at 13
      expectObservable(source.pipe(batchTokens({ interval: 5, scheduler }))).toBe('5ms x 7ms y 7ms |', { x: 'a', y: 'bc' });
    });
  });

  test('batches the tokens of one frame with a scheduler and the frame interval', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-(abc)-d-|');
      expectObservable(source.pipe(batchTokens({ scheduler }))).toBe('-x-----y-|', { x: 'abc', y: 'd' });
    });
  });

  test('flushes on the next animation frame when requestAnimationFrame exists and no scheduler is given', () => {
    const frames = fakeAnimationFrames();
    try {
      scheduler.run(({ animate, cold, expectObservable }) => {
        animate('----x---x');
        const source = cold('-ab---c----|');
        expectObservable(source.pipe(batchTokens())).toBe('----x---y--|', { x: 'ab', y: 'c' });
      });
    } finally {
      frames.restore();
    }
  });

  test('falls back to a 16 ms timer for frames where requestAnimationFrame does not exist', () => {
    expect(typeof (globalThis as { requestAnimationFrame?: unknown }).requestAnimationFrame).toBe('undefined');
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a 9ms b 20ms |');
      expectObservable(source.pipe(batchTokens())).toBe('- 16ms x 14ms |', { x: 'ab' });
    });
  });

  test('uses the async scheduler for a number of ms when no scheduler is given', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b 10ms |');
      expectObservable(source.pipe(batchTokens({ interval: 4 }))).toBe('-----x 8ms |', { x: 'ab' });
    });
  });

  test('emits nothing for a window without tokens or with only empty strings', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a 20ms b-c 20ms d|', { a: 'x', b: '', c: '', d: 'y' });
      expectObservable(source.pipe(batchTokens({ interval: 5, scheduler }))).toBe('------x 39ms (y|)', { x: 'x', y: 'y' });
    });
  });

  test('collects objects such as token events into arrays in arrival order', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e0 = event('Hi', 0);
      const e1 = event(' there', 1);
      const e2 = event('', 2, { finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 2 } });
      const source = cold<TokenEvent>('-ab-----c|', { a: e0, b: e1, c: e2 });
      expectObservable(source.pipe(batchTokens({ interval: 3, scheduler }))).toBe('----x----(y|)', { x: [e0, e1], y: [e2] });
    });
  });

  test('concatenates a batch of a mixed source only when every value in it is a string', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e = event('!', 0);
      const source = cold<string | TokenEvent>('-ab----cd|', { a: 'Hi', b: ' you', c: 'x', d: e });
      expectObservable(source.pipe(batchTokens({ interval: 3, scheduler }))).toBe('----x----(y|)', { x: 'Hi you', y: ['x', e] });
    });
  });
});

describe('batchTokens: completion and errors lose no token', () => {
  test('emits the pending batch at once when the source completes, before its window ends', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|');
      expectObservable(source.pipe(batchTokens({ interval: 100, scheduler }))).toBe('-----(x|)', { x: 'ab' });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  test('emits the pending batch before forwarding an error', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failure = new Error('stream broke');
      const source = cold('-a-b-#', undefined, failure);
      expectObservable(source.pipe(batchTokens({ interval: 100, scheduler }))).toBe('-----(x#)', { x: 'ab' }, failure);
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  test('forwards an error with nothing pending without an empty batch', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const failure = new Error('stream broke');
      const source = cold('-a-----#', undefined, failure);
      expectObservable(source.pipe(batchTokens({ interval: 3, scheduler }))).toBe('----x--#', { x: 'a' }, failure);
    });
  });

  test('clears the scheduled timer once completion has flushed the batch', () => {
    jest.useFakeTimers();
    try {
      const tokens = new Subject<string>();
      const seen: string[] = [];
      tokens.pipe(batchTokens({ interval: 50 })).subscribe((text) => seen.push(text));
      tokens.next('a');
      expect(jest.getTimerCount()).toBe(1);
      tokens.complete();
      expect(seen).toEqual(['a']);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('batchTokens: unsubscribing', () => {
  test('drops the pending batch and never emits it after an early unsubscribe', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-----c-|');
      expectObservable(source.pipe(batchTokens({ interval: 4, scheduler })), '^--!').toBe('----');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  test('clears the pending timer on unsubscribe', () => {
    jest.useFakeTimers();
    try {
      const tokens = new Subject<string>();
      const seen: string[] = [];
      const subscription = tokens.pipe(batchTokens({ interval: 50 })).subscribe((text) => seen.push(text));
      tokens.next('a');
      expect(jest.getTimerCount()).toBe(1);
      subscription.unsubscribe();
      expect(jest.getTimerCount()).toBe(0);
      jest.advanceTimersByTime(100);
      expect(seen).toEqual([]);
      expect(tokens.observed).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });

  test('cancels the requested animation frame on unsubscribe', () => {
    const frames = fakeAnimationFrames();
    try {
      const tokens = new Subject<string>();
      const seen: string[] = [];
      const subscription = tokens.pipe(batchTokens()).subscribe((text) => seen.push(text));
      tokens.next('a');
      tokens.next('b');
      expect(frames.requested).toHaveLength(1);
      subscription.unsubscribe();
      expect(frames.cancelled).toEqual(frames.requested);
      frames.run();
      expect(seen).toEqual([]);
    } finally {
      frames.restore();
    }
  });

  test('emits one batch per real animation frame and requests no frame while idle', () => {
    const frames = fakeAnimationFrames();
    try {
      const tokens = new Subject<string>();
      const seen: string[] = [];
      tokens.pipe(batchTokens()).subscribe((text) => seen.push(text));
      tokens.next('Hel');
      tokens.next('lo');
      frames.run();
      frames.run();
      tokens.next('!');
      frames.run();
      expect(seen).toEqual(['Hello', '!']);
      expect(frames.requested).toHaveLength(2);
    } finally {
      frames.restore();
    }
  });
});

describe('batchTokens: per-subscription state', () => {
  test('gives each subscription its own batch and its own window', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b---c----|');
      const batched = source.pipe(batchTokens({ interval: 3, scheduler }));
      expectObservable(batched).toBe('----x-----y-|', { x: 'ab', y: 'c' });
      expectObservable(batched, '--^').toBe('------x---y-|', { x: 'b', y: 'c' });
    });
  });

  test('starts afresh when the same piped Observable is subscribed again', async () => {
    const batched = from(['a', 'b']).pipe(batchTokens({ interval: 10 }));
    expect(await lastValueFrom(batched.pipe(toArray()))).toEqual(['ab']);
    expect(await lastValueFrom(batched.pipe(toArray()))).toEqual(['ab']);
  });
});

describe('batchTokens: synchronous sources', () => {
  test('emits an endless synchronous source cut by take upstream as one batch at its completion', () => {
    const { source, pulled } = endless();
    const seen: string[] = [];
    let completed = false;
    source.pipe(take(4), batchTokens({ interval: 10 })).subscribe({ next: (t) => seen.push(t), complete: () => (completed = true) });
    expect(seen).toEqual(['abcd']);
    expect(completed).toBe(true);
    expect(pulled()).toBe(4);
  });

  test('stops an endless synchronous source when take downstream unsubscribes during a synchronous flush', () => {
    const { source, pulled } = endless();
    const seen: string[] = [];
    source.pipe(batchTokens({ scheduler: queueScheduler }), take(2)).subscribe((t) => seen.push(t));
    expect(seen).toEqual(['a', 'b']);
    expect(pulled()).toBe(2);
  });
});

describe('batchTokens: config', () => {
  test.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY]])('rejects an interval of %p with a RangeError', (interval) => {
    expect(() => batchTokens({ interval })).toThrow(RangeError);
  });

  test('accepts an interval of 0 ms and batches what arrives in the same tick', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-(ab)-c-|');
      expectObservable(source.pipe(batchTokens({ interval: 0 }))).toBe('-x----y-|', { x: 'ab', y: 'c' });
    });
  });
});

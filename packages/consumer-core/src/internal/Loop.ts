import { sleepUnlessAborted } from '@shardline/common';

/**
 * Runs `body` every `intervalMs` until stopped; `wake()` runs it early. The interval is measured from
 * the end of one run to the start of the next, or, with `fixedRate`, from start to start (a run that
 * took longer than the interval is followed at once), as a `ScheduledExecutorService.scheduleAtFixedRate`
 * of the Java KCL's lease renewer. Errors from `body` go to `onError` and the loop goes on.
 */
export class Loop {
  readonly #controller = new AbortController();
  readonly #intervalMs: number;
  readonly #body: () => Promise<void>;
  readonly #onError: (error: unknown) => void;
  readonly #fixedRate: boolean;
  readonly #now: () => number;
  #wakeController = new AbortController();
  #wakeTimer: NodeJS.Timeout | undefined;
  #woken = false;
  #done: Promise<void> | undefined;

  constructor(
    intervalMs: number,
    body: () => Promise<void>,
    onError: (error: unknown) => void,
    options: {
      readonly fixedRate?: boolean;
      /** The monotonic clock of `fixedRate` (ms). @defaultValue `performance.now` */
      readonly now?: () => number;
    } = {},
  ) {
    this.#intervalMs = intervalMs;
    this.#body = body;
    this.#onError = onError;
    this.#fixedRate = options.fixedRate ?? false;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The signal aborted by `stop()`; pass it to the calls made by the body. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Starts the loop; the first run is immediate unless `delayFirstRun`. */
  start(delayFirstRun = false): void {
    this.#done ??= this.#run(delayFirstRun);
  }

  /** Runs the body as soon as the current wait allows. */
  wake(): void {
    this.#woken = true;
    this.#wakeController.abort();
  }

  /**
   * Runs the body in `delayMs` unless it runs earlier anyway (a quick follow-up round while something
   * is moving). A follow-up already pending is kept; `stop()` cancels it.
   */
  wakeAfter(delayMs: number): void {
    if (this.#wakeTimer || this.#controller.signal.aborted) return;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      if (!this.#controller.signal.aborted) this.wake();
    }, delayMs);
    this.#wakeTimer.unref?.();
  }

  /**
   * Stops the loop and waits for a running body to finish, at most `maxWaitMs`: a body stuck on a call
   * that ignores the abort signal must not hold up a shutdown (its late result is ignored).
   */
  async stop(maxWaitMs = 5_000): Promise<void> {
    this.#controller.abort();
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    this.#wakeController.abort();
    if (!this.#done) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#done,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, maxWaitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  async #run(delayFirstRun: boolean): Promise<void> {
    let wait = delayFirstRun;
    let startedAtMs = this.#now();
    while (!this.#controller.signal.aborted) {
      if (wait && !this.#woken) {
        const waitMs = this.#fixedRate
          ? Math.max(0, startedAtMs + this.#intervalMs - this.#now())
          : this.#intervalMs;
        if (waitMs > 0) await sleepUnlessAborted(waitMs, this.#wakeController.signal);
        if (this.#controller.signal.aborted) return;
      }
      this.#woken = false;
      if (this.#wakeController.signal.aborted) this.#wakeController = new AbortController();
      wait = true;
      startedAtMs = this.#now();
      try {
        await this.#body();
      } catch (error) {
        if (!this.#controller.signal.aborted) this.#onError(error);
      }
    }
  }
}

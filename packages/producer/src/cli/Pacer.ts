import { setTimeout as sleep } from 'node:timers/promises';

/** Spaces out sends: a fixed rate, or the original event times sped up by a factor. */
export class Pacer {
  readonly #ratePerSecond: number | undefined;
  readonly #speed: number | undefined;
  #startedAtMs: number | undefined;
  #firstEventMs: number | undefined;
  #count = 0;

  constructor(options: { ratePerSecond?: number; speed?: number }) {
    this.#ratePerSecond = options.ratePerSecond;
    this.#speed = options.speed;
  }

  /** When the next send is due (epoch ms), given its event time; `undefined` = now. Pure but stateful. */
  dueAtMs(eventTimeMs: number | undefined, nowMs: number): number | undefined {
    this.#startedAtMs ??= nowMs;
    const n = this.#count++;
    if (this.#ratePerSecond !== undefined) return this.#startedAtMs + (n * 1000) / this.#ratePerSecond;
    if (this.#speed !== undefined && eventTimeMs !== undefined) {
      this.#firstEventMs ??= eventTimeMs;
      // Rows out of time order go at once; they never pull the schedule back.
      return this.#startedAtMs + Math.max(0, eventTimeMs - this.#firstEventMs) / this.#speed;
    }
    return undefined;
  }

  /** Waits until the next send is due. */
  async wait(eventTimeMs: number | undefined, signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    const due = this.dueAtMs(eventTimeMs, now);
    if (due !== undefined && due > now) await sleep(due - now, undefined, { signal });
  }
}

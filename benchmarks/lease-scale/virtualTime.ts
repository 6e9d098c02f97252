/**
 * Virtual time for the lease-scale model: a clock and the global timer functions (`setTimeout`,
 * `setInterval` and their `clear*`) replaced by a queue that jumps from one due timer to the next.
 *
 * The lease code takes its clock as an option and schedules every wait through the global timers
 * (`Loop`, `sleep`, `withDeadline`, the renewer's expiry check), so it runs unchanged on virtual time:
 * no seam in the library is needed. After the timers due at one instant have fired, the real event
 * loop is given one turn (`setImmediate`), which drains every promise continuation they started (the
 * microtask queue always empties before the next macrotask); only then does the clock move on.
 *
 * Install it only in a process of its own (a benchmark contender): while installed, every timer of the
 * process is virtual. Timers created before installation stay real and are still cleared correctly.
 */

const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  setImmediate: globalThis.setImmediate,
};

/** A timer handle that looks enough like Node's `Timeout` for the code that uses it (`unref`, `ref`). */
export class VirtualTimer {
  readonly id: number;
  atMs: number;
  readonly repeatMs: number | undefined;
  readonly callback: (...args: unknown[]) => void;
  readonly args: unknown[];
  cancelled = false;

  constructor(
    id: number,
    atMs: number,
    repeatMs: number | undefined,
    callback: (...args: unknown[]) => void,
    args: unknown[],
  ) {
    this.id = id;
    this.atMs = atMs;
    this.repeatMs = repeatMs;
    this.callback = callback;
    this.args = args;
  }

  unref(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  hasRef(): boolean {
    return true;
  }

  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

/** A binary min-heap of timers by (due time, creation order). */
class TimerHeap {
  readonly #items: VirtualTimer[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): VirtualTimer | undefined {
    return this.#items[0];
  }

  push(timer: VirtualTimer): void {
    const items = this.#items;
    items.push(timer);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): VirtualTimer | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && before(items[left]!, items[smallest]!)) smallest = left;
        if (right < items.length && before(items[right]!, items[smallest]!)) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest]!, items[i]!];
        i = smallest;
      }
    }
    return top;
  }
}

function before(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.id < b.id);
}

/** The virtual clock and timer queue. */
export class VirtualTime {
  #nowMs = 0;
  #nextId = 1;
  readonly #heap = new TimerHeap();
  #installed = false;
  /** Timer callbacks run so far (a measure of the model's work). */
  firedCount = 0;

  /** Now, in virtual ms since the start. */
  nowMs(): number {
    return this.#nowMs;
  }

  /** A `Clock` for the lease code. */
  readonly clock = { nowMs: () => this.#nowMs };

  /** Replaces the global timer functions with virtual ones. */
  install(): void {
    if (this.#installed) return;
    this.#installed = true;
    const g = globalThis as unknown as Record<string, unknown>;
    g.setTimeout = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      this.#schedule(callback, ms, undefined, args);
    g.setInterval = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      this.#schedule(callback, ms, Math.max(1, ms ?? 1), args);
    const clear = (handle: unknown) => {
      if (handle instanceof VirtualTimer) handle.cancelled = true;
      else if (handle !== undefined) real.clearTimeout(handle as NodeJS.Timeout);
    };
    g.clearTimeout = clear;
    g.clearInterval = clear;
  }

  /** Puts the real timer functions back. */
  uninstall(): void {
    if (!this.#installed) return;
    this.#installed = false;
    Object.assign(globalThis, {
      setTimeout: real.setTimeout,
      clearTimeout: real.clearTimeout,
      setInterval: real.setInterval,
      clearInterval: real.clearInterval,
    });
  }

  #schedule(
    callback: (...args: unknown[]) => void,
    ms: number | undefined,
    repeatMs: number | undefined,
    args: unknown[],
  ): VirtualTimer {
    // Node runs a 0 ms timer after at least 1 ms; so does this queue (and never loops at one instant).
    const delay = Math.max(1, Number.isFinite(ms) ? Number(ms) : 1);
    const timer = new VirtualTimer(this.#nextId++, this.#nowMs + delay, repeatMs, callback, args);
    this.#heap.push(timer);
    return timer;
  }

  /** Lets every promise continuation already started run (one real event-loop turn). */
  settle(): Promise<void> {
    return new Promise((resolve) => real.setImmediate(resolve));
  }

  /**
   * Runs every timer due up to `targetMs` in order, letting promises settle after each instant, and
   * leaves the clock at `targetMs`.
   */
  async runUntil(targetMs: number): Promise<void> {
    await this.settle();
    for (;;) {
      const next = this.#heap.peek();
      if (!next || next.atMs > targetMs) break;
      const atMs = next.atMs;
      this.#nowMs = atMs;
      while (this.#heap.peek()?.atMs === atMs) {
        const timer = this.#heap.pop()!;
        if (timer.cancelled) continue;
        if (timer.repeatMs !== undefined) {
          timer.atMs = atMs + timer.repeatMs;
          this.#heap.push(timer);
        }
        this.firedCount += 1;
        timer.callback(...timer.args);
      }
      await this.settle();
    }
    this.#nowMs = Math.max(this.#nowMs, targetMs);
  }

  /**
   * Advances in steps of `stepMs` until `condition` holds (checked after each step) or `maxMs` more
   * virtual ms have passed. @returns the virtual time at which it held, or `undefined`.
   */
  async runUntilTrue(condition: () => boolean, stepMs: number, maxMs: number): Promise<number | undefined> {
    const endMs = this.#nowMs + maxMs;
    while (this.#nowMs < endMs) {
      await this.runUntil(Math.min(endMs, this.#nowMs + stepMs));
      if (condition()) return this.#nowMs;
    }
    return undefined;
  }
}

/**
 * A promise-chain mutex: `run(fn)` calls run one after another in call order. Used to keep lease
 * writes of one lease (renew, checkpoint, release) from racing each other on the lease counter.
 */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every earlier `run` has settled. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

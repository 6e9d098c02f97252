interface Subscribers {
  readonly callbacks: Set<() => void>;
  readonly listener: () => void;
}

const subscribersBySignal = new WeakMap<AbortSignal, Subscribers>();

/**
 * Calls `callback` once when `signal` aborts; the returned function unsubscribes.
 *
 * Every subscriber of one signal shares a single `abort` listener, added with the first subscriber and
 * removed with the last. A long-lived signal (a loop's, a lease's) passed to many concurrent calls —
 * one renewal per held lease, one wait per backoff — so never collects one listener per call, and
 * Node's `MaxListenersExceededWarning` (more than 10 listeners on one signal) cannot fire however many
 * calls share it.
 *
 * @returns the unsubscribe function (idempotent); a no-op when `signal` is undefined or already aborted
 * (the callback is then not called: check `signal.aborted` first).
 */
export function onAbort(signal: AbortSignal | undefined, callback: () => void): () => void {
  if (signal === undefined || signal.aborted) return () => {};
  let subscribers = subscribersBySignal.get(signal);
  if (subscribers === undefined) {
    const callbacks = new Set<() => void>();
    const listener = () => {
      subscribersBySignal.delete(signal);
      for (const notify of [...callbacks]) notify();
      callbacks.clear();
    };
    subscribers = { callbacks, listener };
    subscribersBySignal.set(signal, subscribers);
    signal.addEventListener('abort', listener, { once: true });
  }
  const entry = () => callback();
  const { callbacks, listener } = subscribers;
  callbacks.add(entry);
  return () => {
    if (!callbacks.delete(entry) || callbacks.size > 0) return;
    if (subscribersBySignal.get(signal) === subscribers) {
      subscribersBySignal.delete(signal);
      signal.removeEventListener('abort', listener);
    }
  };
}

import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * How a {@link FaultProxy} treats connections:
 * - `forward`: bytes flow both ways untouched.
 * - `black-hole`: connections are accepted and nothing is ever answered (requests are read and dropped).
 * - `slow`: requests are forwarded; the answer's HTTP head arrives at once, then its body one byte per
 *   `slowIntervalMs` (a server that answers, slowly).
 * - `reset`: connections are accepted and reset at once.
 */
export type FaultMode = 'forward' | 'black-hole' | 'slow' | 'reset';

/** A TCP proxy on 127.0.0.1 in front of an emulator whose behaviour a test switches at any moment. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: give it to the SDK client as its endpoint. */
  readonly endpoint: string;
  /** The current mode. */
  readonly mode: FaultMode;
  /**
   * Switches the mode for new connections and for the open ones a client keeps alive: an open
   * forwarding connection turns black-hole or slow for its next bytes (or is reset), as a failing
   * network would do to a pooled socket. Leaving `black-hole` or `slow` resets the connections they
   * held, as a recovered network would.
   */
  setMode(mode: FaultMode): void;
  /**
   * How many connections each mode has received so far — accepted in it, or open when the proxy
   * switched to it and carrying a request after that: tests assert that a fault was reached.
   */
  readonly connections: Readonly<Record<FaultMode, number>>;
  /** Closes the proxy and every connection. */
  close(): Promise<void>;
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The first mode. @defaultValue 'forward' */
  readonly mode?: FaultMode;
  /** In `slow` mode, milliseconds between two body bytes. @defaultValue 1000 */
  readonly slowIntervalMs?: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** Starts a {@link FaultProxy} forwarding to `target` (`http://host:port`). */
export async function startFaultProxy(target: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const url = new URL(target);
  const slowIntervalMs = options.slowIntervalMs ?? 1_000;
  let mode: FaultMode = options.mode ?? 'forward';
  const connections: Record<FaultMode, number> = { forward: 0, 'black-hole': 0, slow: 0, reset: 0 };
  interface Pair {
    readonly client: Socket;
    upstream?: Socket;
    mode: FaultMode;
    /** Whether `connections` counted it in its current mode. */
    isCounted: boolean;
    timer?: NodeJS.Timeout;
    /** slow: answer bytes not yet sent, whether the current answer's head went out, upstream closed. */
    pending: Buffer;
    isHeadSent: boolean;
    isUpstreamDone: boolean;
  }
  const pairs = new Set<Pair>();
  const drop = (pair: Pair) => {
    clearInterval(pair.timer);
    pair.client.destroy();
    pair.upstream?.destroy();
    pairs.delete(pair);
  };
  const startTrickle = (pair: Pair) => {
    pair.pending = Buffer.alloc(0);
    pair.isHeadSent = false;
    pair.timer = setInterval(() => {
      if (pair.pending.length === 0) {
        if (pair.isUpstreamDone) {
          clearInterval(pair.timer);
          pair.client.end();
        }
        return;
      }
      if (!pair.isHeadSent) return;
      pair.client.write(pair.pending.subarray(0, 1));
      pair.pending = pair.pending.subarray(1);
    }, slowIntervalMs);
  };
  const answer = (pair: Pair, chunk: Buffer) => {
    if (pair.mode === 'forward') {
      pair.client.write(chunk);
      return;
    }
    if (pair.mode !== 'slow') return; // black-hole: the answer is dropped
    // slow: the head at once, then the rest a byte at a time.
    pair.pending = Buffer.concat([pair.pending, chunk]);
    if (!pair.isHeadSent) {
      const end = pair.pending.indexOf(HEAD_END);
      if (end < 0) return;
      pair.client.write(pair.pending.subarray(0, end + HEAD_END.length));
      pair.pending = pair.pending.subarray(end + HEAD_END.length);
      pair.isHeadSent = true;
    }
  };

  const server: Server = createServer((client) => {
    const pair: Pair = {
      client,
      mode,
      isCounted: true,
      pending: Buffer.alloc(0),
      isHeadSent: false,
      isUpstreamDone: false,
    };
    connections[mode] += 1;
    pairs.add(pair);
    client.on('error', () => drop(pair)).on('close', () => drop(pair));
    if (pair.mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    if (pair.mode === 'black-hole') {
      client.resume(); // read and drop: the sender's writes complete, no answer ever comes
      return;
    }
    const upstream = connect(Number(url.port), url.hostname);
    pair.upstream = upstream;
    client.on('data', (chunk: Buffer) => {
      if (!pair.isCounted) {
        connections[pair.mode] += 1;
        pair.isCounted = true;
      }
      if (pair.mode !== 'black-hole') upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => answer(pair, chunk));
    upstream
      .on('error', () => drop(pair))
      .on('close', () => {
        // An upstream that closes after answering still has its answer trickled out in full.
        if (pair.mode === 'forward') drop(pair);
        else pair.isUpstreamDone = true;
      });
    if (pair.mode === 'slow') startTrickle(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get mode() {
      return mode;
    },
    connections,
    setMode(next: FaultMode) {
      const leaving = mode;
      mode = next;
      if (leaving === next) return;
      for (const pair of [...pairs]) {
        if (pair.mode !== 'forward' || next === 'reset') {
          if (next === 'reset') pair.client.resetAndDestroy();
          drop(pair);
        } else if (next !== 'forward') {
          // A kept-alive connection fails with the network: its next request meets the new mode.
          pair.mode = next;
          pair.isCounted = false;
          if (next === 'slow') startTrickle(pair);
        }
      }
    },
    async close() {
      for (const pair of [...pairs]) drop(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

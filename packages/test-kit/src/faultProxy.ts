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
   * Switches the mode for new connections and for bytes still to flow on open ones. Leaving
   * `black-hole` or `slow` resets the connections they held, as a recovered network would.
   */
  setMode(mode: FaultMode): void;
  /** How many connections each mode has received so far: tests assert that a fault was reached. */
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
    readonly mode: FaultMode;
    timer?: NodeJS.Timeout;
  }
  const pairs = new Set<Pair>();
  const drop = (pair: Pair) => {
    clearInterval(pair.timer);
    pair.client.destroy();
    pair.upstream?.destroy();
    pairs.delete(pair);
  };

  const server: Server = createServer((client) => {
    const pair: Pair = { client, mode };
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
    client.on('data', (chunk) => upstream.write(chunk));
    if (pair.mode === 'forward') {
      upstream.on('error', () => drop(pair)).on('close', () => drop(pair));
      upstream.on('data', (chunk) => client.write(chunk));
      return;
    }
    // An upstream that closes after answering still has its answer trickled out in full.
    let upstreamDone = false;
    upstream
      .on('error', () => drop(pair))
      .on('close', () => {
        upstreamDone = true;
      });
    // slow: the head at once, then the rest a byte at a time.
    let pending = Buffer.alloc(0);
    let headSent = false;
    upstream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (!headSent) {
        const end = pending.indexOf(HEAD_END);
        if (end < 0) return;
        client.write(pending.subarray(0, end + HEAD_END.length));
        pending = pending.subarray(end + HEAD_END.length);
        headSent = true;
      }
    });
    pair.timer = setInterval(() => {
      if (pending.length === 0) {
        if (upstreamDone) {
          clearInterval(pair.timer);
          client.end();
        }
        return;
      }
      if (!headSent) return;
      client.write(pending.subarray(0, 1));
      pending = pending.subarray(1);
    }, slowIntervalMs);
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
      for (const pair of [...pairs]) if (pair.mode !== 'forward') drop(pair);
    },
    async close() {
      for (const pair of [...pairs]) drop(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

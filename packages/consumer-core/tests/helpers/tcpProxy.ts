import { createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy on 127.0.0.1 that a test can cut (a network partition) and restore. */
export interface TcpProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Partition: open connections stop forwarding (requests hang), new ones are held unanswered. */
  cut(): void;
  /** Heal: held and stalled connections are reset (clients retry on fresh ones), forwarding resumes. */
  restore(): void;
  close(): Promise<void>;
}

/** Starts a proxy forwarding to `target` (`http://host:port`). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const url = new URL(target);
  const { connect } = await import('node:net');
  const pairs = new Set<{ client: Socket; upstream: Socket | undefined }>();
  let isCut = false;
  const server: Server = createServer((client) => {
    const pair = { client, upstream: undefined as Socket | undefined };
    pairs.add(pair);
    const drop = () => {
      pair.client.destroy();
      pair.upstream?.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    if (isCut) return; // held: no bytes flow until restore() resets it
    const upstream = connect(Number(url.port), url.hostname);
    pair.upstream = upstream;
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk) => {
      if (!isCut) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!isCut) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut: () => {
      isCut = true;
    },
    restore: () => {
      isCut = false;
      for (const pair of [...pairs]) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      pairs.clear();
    },
    close: async () => {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

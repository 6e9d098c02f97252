import { Agent, createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../src/index.js';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headAfterMs: number;
  readonly bodyAfterMs: number;
}

function get(endpoint: string, timeoutMs: number): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(endpoint, { agent: false }, (res) => {
      const headAfterMs = performance.now() - started;
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, headAfterMs, bodyAfterMs: performance.now() - started }),
      );
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('client timeout')));
    req.on('error', reject).end();
  });
}

describe('startFaultProxy', () => {
  let upstream: Server;
  let proxy: FaultProxy;

  beforeAll(async () => {
    upstream = createServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const address = upstream.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    proxy = await startFaultProxy(`http://127.0.0.1:${port}`, { slowIntervalMs: 50 });
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('forwards, black-holes, trickles and resets, counting each mode’s connections', async () => {
    await expect(get(proxy.endpoint, 2_000)).resolves.toMatchObject({ status: 200, body: 'hello' });

    proxy.setMode('black-hole');
    await expect(get(proxy.endpoint, 300)).rejects.toThrow('client timeout');

    proxy.setMode('slow');
    const slow = await get(proxy.endpoint, 5_000);
    expect(slow.body).toBe('hello');
    // The head comes at once; the five body bytes at 50 ms each.
    expect(slow.bodyAfterMs - slow.headAfterMs).toBeGreaterThanOrEqual(150);

    proxy.setMode('reset');
    await expect(get(proxy.endpoint, 2_000)).rejects.toThrow(/ECONNRESET|socket hang up/);

    proxy.setMode('forward');
    await expect(get(proxy.endpoint, 2_000)).resolves.toMatchObject({ body: 'hello' });
    expect(proxy.connections).toEqual({ forward: 2, 'black-hole': 1, slow: 1, reset: 1 });
  });
});

describe('startFaultProxy with a kept-alive connection', () => {
  it('turns an open forwarding connection black-hole for its next request, and counts it once used', async () => {
    const upstream = createServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const address = upstream.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const proxy = await startFaultProxy(`http://127.0.0.1:${port}`);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const call = (timeoutMs: number) =>
      new Promise<string>((resolve, reject) => {
        const req = request(proxy.endpoint, { agent }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => resolve(body));
        });
        req.setTimeout(timeoutMs, () => req.destroy(new Error('client timeout')));
        req.on('error', reject).end();
      });
    try {
      await expect(call(2_000)).resolves.toBe('hello');
      proxy.setMode('black-hole');
      expect(proxy.connections['black-hole']).toBe(0); // open, not yet used in the new mode
      await expect(call(300)).rejects.toThrow('client timeout');
      proxy.setMode('forward');
      await expect(call(2_000)).resolves.toBe('hello');
      expect(proxy.connections).toMatchObject({ 'black-hole': 1 });
      expect(proxy.connections.forward).toBeGreaterThanOrEqual(2);
    } finally {
      agent.destroy();
      await proxy.close();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });
});

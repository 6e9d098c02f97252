import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { type EventLoopDelay, HealthServer } from '../../src/health/HealthServer.js';
import { silentLogger } from '../../src/index.js';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('HealthServer', () => {
  it('judges the event loop over a sliding window: a pause fails the probe right after it, and ages out', async () => {
    const seen: EventLoopDelay[] = [];
    const server = new HealthServer({
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
      eventLoopWindowMs: 1_000,
      liveness: (eventLoop) => {
        seen.push(eventLoop);
        return {
          statusCode: eventLoop.delayP99Ms > 250 ? 503 : 200,
          body: { status: 'ok', workerId: 'w', checks: {} },
        };
      },
      readiness: () => ({ statusCode: 200, body: { status: 'ok', workerId: 'w', checks: {} } }),
    });
    await server.listen();
    const port = server.address!.port;
    try {
      await sleep(350);
      expect((await get(port, '/healthz')).status).toBe(200);
      // A probe right after the previous one still sees the pause (nothing is reset by a probe).
      const blockedUntil = performance.now() + 500;
      while (performance.now() < blockedUntil) {
        // A synchronous stretch: the sampler cannot run.
      }
      expect((await get(port, '/healthz')).status).toBe(503);
      expect((await get(port, '/healthz')).status).toBe(503);
      expect(seen.at(-1)!.maxDelayMs).toBeGreaterThanOrEqual(400);
      await sleep(1_200);
      expect((await get(port, '/healthz')).status).toBe(200);
    } finally {
      await server.close();
    }
    await expect(get(port, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('answers 500 with a JSON body when a check throws, and keeps serving', async () => {
    const server = new HealthServer({
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
      liveness: () => {
        throw new Error('boom');
      },
      readiness: () => ({ statusCode: 200, body: { status: 'ok', workerId: 'w', checks: {} } }),
    });
    await server.listen();
    const port = server.address!.port;
    try {
      const answer = await get(port, '/healthz');
      expect(answer.status).toBe(500);
      expect(JSON.parse(answer.body)).toMatchObject({ status: 'failing' });
      expect((await get(port, '/readyz')).status).toBe(200);
    } finally {
      await server.close();
      await server.close();
    }
  });
});

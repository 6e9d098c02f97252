import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../internal/logger.js';
import type { HealthReport } from './healthStatus.js';

/** Options of {@link HealthServer}. */
export interface HealthServerOptions {
  readonly host: string;
  /** 0 picks a free port (see {@link HealthServer.address}). */
  readonly port: number;
  readonly logger: Logger;
  /** How far back the event-loop delay is judged. @defaultValue 10000 */
  readonly eventLoopWindowMs?: number;
  /** Answers `/healthz`; gets the event-loop delay of the last window. */
  readonly liveness: (eventLoop: EventLoopDelay) => HealthReport;
  /** Answers `/readyz`. */
  readonly readiness: (eventLoop: EventLoopDelay) => HealthReport;
}

/** Event-loop delay over a window, in milliseconds. */
export interface EventLoopDelay {
  readonly delayP99Ms: number;
  readonly maxDelayMs: number;
}

/**
 * How often the event loop is sampled: a timer that should fire every 100 ms records how late it ran.
 * (`perf_hooks.monitorEventLoopDelay` loses the first sample after each `reset()`, so a pause right
 * after a probe would go unseen; a timer of our own keeps a sliding window instead.)
 */
const EVENT_LOOP_SAMPLE_MS = 100;
const DEFAULT_EVENT_LOOP_WINDOW_MS = 10_000;

/**
 * `/healthz` and `/readyz` over `node:http`: GET and HEAD, JSON bodies, 405 for other methods, 404 for
 * other paths. Owns the listening socket and the event-loop sampler; {@link close} stops both.
 */
export class HealthServer {
  readonly #options: HealthServerOptions;
  readonly #server: Server;
  readonly #windowMs: number;
  /** Event-loop delays of the last window, oldest first. */
  #samples: { readonly atMs: number; readonly delayMs: number }[] = [];
  #sampler: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: HealthServerOptions) {
    this.#options = options;
    this.#windowMs = options.eventLoopWindowMs ?? DEFAULT_EVENT_LOOP_WINDOW_MS;
    this.#server = createServer((request, response) => this.#handle(request, response));
    // Probes are short: never hold the process open, or a stopping consumer, on an idle keep-alive.
    this.#server.keepAliveTimeout = 1_000;
    this.#server.requestTimeout = 5_000;
  }

  /** Where the server listens, once {@link listen} resolved. */
  get address(): { readonly host: string; readonly port: number } | undefined {
    const address = this.#server.address() as AddressInfo | null;
    return address ? { host: this.#options.host, port: address.port } : undefined;
  }

  /**
   * Starts listening and measuring the event loop.
   * @throws the listen error (`EADDRINUSE`, `EACCES`), the server then closed.
   */
  async listen(): Promise<void> {
    this.#startSampling();
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        this.#stopSampling();
        reject(error);
      };
      this.#server.once('error', onError);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (error) => this.#options.logger.warn('Health server error', { error }));
        resolve();
      });
    });
  }

  /** Stops listening and closes every connection. Memoized. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#stopSampling();
      if (!this.#server.listening) {
        resolve();
        return;
      }
      this.#server.close(() => resolve());
      // A probe's keep-alive connection would hold close() until it idles out.
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }

  #startSampling(): void {
    let expectedAtMs = performance.now() + EVENT_LOOP_SAMPLE_MS;
    this.#sampler = setInterval(() => {
      const nowMs = performance.now();
      this.#samples.push({ atMs: nowMs, delayMs: Math.max(0, nowMs - expectedAtMs) });
      expectedAtMs = nowMs + EVENT_LOOP_SAMPLE_MS;
      this.#prune(nowMs);
    }, EVENT_LOOP_SAMPLE_MS);
    this.#sampler.unref();
  }

  #stopSampling(): void {
    if (this.#sampler) clearInterval(this.#sampler);
    this.#sampler = undefined;
    this.#samples = [];
  }

  #prune(nowMs: number): void {
    const fromMs = nowMs - this.#windowMs;
    let drop = 0;
    while (drop < this.#samples.length && this.#samples[drop]!.atMs < fromMs) drop++;
    if (drop > 0) this.#samples.splice(0, drop);
  }

  /** p99 and max of the delays sampled in the last window (a blocked loop yields few, long samples). */
  #eventLoopDelay(): EventLoopDelay {
    this.#prune(performance.now());
    if (this.#samples.length === 0) return { delayP99Ms: 0, maxDelayMs: 0 };
    const delays = this.#samples.map((sample) => sample.delayMs).sort((a, b) => a - b);
    const p99 = delays[Math.ceil(0.99 * delays.length) - 1]!;
    return { delayP99Ms: Math.round(p99), maxDelayMs: Math.round(delays[delays.length - 1]!) };
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0];
    const send = (statusCode: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = `${JSON.stringify(body)}\n`;
      response.writeHead(statusCode, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-store',
        ...headers,
      });
      response.end(request.method === 'HEAD' ? undefined : text);
    };
    if (path !== '/healthz' && path !== '/readyz') {
      send(404, { error: 'not found', paths: ['/healthz', '/readyz'] });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(405, { error: 'method not allowed', allow: ['GET', 'HEAD'] }, { allow: 'GET, HEAD' });
      return;
    }
    try {
      const eventLoop = this.#eventLoopDelay();
      const answer =
        path === '/healthz' ? this.#options.liveness(eventLoop) : this.#options.readiness(eventLoop);
      send(answer.statusCode, answer.body);
    } catch (error) {
      this.#options.logger.warn('A health check threw', { error });
      send(500, { status: 'failing', error: 'the health check threw' });
    }
  }
}

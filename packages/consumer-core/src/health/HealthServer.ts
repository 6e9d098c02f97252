import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from '../internal/logger.js';
import type { HealthReport } from './healthStatus.js';

/** Options of {@link HealthServer}. */
export interface HealthServerOptions {
  readonly host: string;
  /** 0 picks a free port (see {@link HealthServer.address}). */
  readonly port: number;
  readonly logger: Logger;
  /** Answers `/healthz`; gets the event-loop delay measured since the previous probe. */
  readonly liveness: (eventLoop: EventLoopDelay) => HealthReport;
  /** Answers `/readyz`. */
  readonly readiness: (eventLoop: EventLoopDelay) => HealthReport;
}

/** Event-loop delay over a window, in milliseconds. */
export interface EventLoopDelay {
  readonly delayP99Ms: number;
  readonly maxDelayMs: number;
}

/** How finely the event-loop delay is sampled (Node's default is 10 ms). */
const EVENT_LOOP_RESOLUTION_MS = 20;
/** The histogram is reset at least this often, so one old pause does not fail every later probe. */
const EVENT_LOOP_WINDOW_MS = 30_000;

/**
 * `/healthz` and `/readyz` over `node:http`: GET and HEAD, JSON bodies, 405 for other methods, 404 for
 * other paths. Owns the listening socket and the event-loop delay histogram; {@link close} frees both.
 */
export class HealthServer {
  readonly #options: HealthServerOptions;
  readonly #server: Server;
  readonly #histogram: IntervalHistogram;
  #windowStartedAtMs = 0;
  #closing: Promise<void> | undefined;

  constructor(options: HealthServerOptions) {
    this.#options = options;
    this.#histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
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
    this.#histogram.enable();
    this.#windowStartedAtMs = performance.now();
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        this.#histogram.disable();
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
      this.#histogram.disable();
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

  #eventLoopDelay(): EventLoopDelay {
    const histogram = this.#histogram;
    const toMs = (ns: number) => Math.round(ns / 1e6);
    const delay =
      histogram.count === 0
        ? { delayP99Ms: 0, maxDelayMs: 0 }
        : { delayP99Ms: toMs(histogram.percentile(99)), maxDelayMs: toMs(histogram.max) };
    // The window is the time since the previous probe, or the last 30 s at most.
    const nowMs = performance.now();
    if (histogram.count > 0 || nowMs - this.#windowStartedAtMs > EVENT_LOOP_WINDOW_MS) {
      histogram.reset();
      this.#windowStartedAtMs = nowMs;
    }
    return delay;
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

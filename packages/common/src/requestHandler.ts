/** Timeouts of an AWS SDK v3 request handler, in the shape `NodeHttpHandler` takes them. */
export interface HttpTimeouts {
  /** Milliseconds to wait for a TCP connection. */
  readonly connectionTimeout: number;
  /**
   * Milliseconds until the response's headers arrive before a request fails (with
   * `throwOnRequestTimeout`; otherwise `@smithy/node-http-handler` only logs). A body that trickles in
   * after its headers is not cut off by it: bound whole calls with `clientWithDeadline`.
   */
  readonly requestTimeout: number;
}

/** What {@link http1RequestHandler} passes to the handler's constructor. */
export interface HttpHandlerSettings extends HttpTimeouts {
  /** Always true: a missed `requestTimeout` fails the request instead of logging a warning. */
  readonly throwOnRequestTimeout: boolean;
}

/** The timeouts of Shardline's own SDK clients (CLIs, the local gateway, local client settings). */
export const HTTP_TIMEOUTS: HttpTimeouts = Object.freeze({
  connectionTimeout: 5_000,
  requestTimeout: 30_000,
});

/** Short timeouts for health probes, which must answer fast or count as down. */
export const PROBE_HTTP_TIMEOUTS: HttpTimeouts = Object.freeze({
  connectionTimeout: 1_000,
  requestTimeout: 5_000,
});

/**
 * Builds the HTTP/1.1 request handler of an AWS SDK v3 client with Shardline's timeouts. HTTP/1.1
 * because the local emulators cannot speak HTTP/2 (kinesalite), and `SubscribeToShard` on
 * kinesis-local needs it; the Kinesis client would otherwise default to HTTP/2.
 *
 * `throwOnRequestTimeout` is set: without it the pinned `@smithy/node-http-handler` (4.x) only logs a
 * warning when `requestTimeout` passes and the request goes on waiting forever.
 *
 * The handler's class is passed in (`NodeHttpHandler` from `@smithy/node-http-handler`), so this
 * package depends on no AWS package and those that never build a client install none.
 *
 * @example
 * ```ts
 * import { NodeHttpHandler } from '@smithy/node-http-handler';
 * const client = new KinesisClient({ requestHandler: http1RequestHandler(NodeHttpHandler) });
 * ```
 */
export function http1RequestHandler<H>(
  Handler: new (options: HttpHandlerSettings) => H,
  timeouts: HttpTimeouts = HTTP_TIMEOUTS,
): H {
  return new Handler({
    connectionTimeout: timeouts.connectionTimeout,
    requestTimeout: timeouts.requestTimeout,
    throwOnRequestTimeout: true,
  });
}

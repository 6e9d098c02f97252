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

/**
 * The stream idle timeout of {@link kinesisRequestHandler}'s HTTP/2 handler: 5 minutes, the most a
 * `SubscribeToShard` subscription lives. `NodeHttp2Handler` counts a stream paused by backpressure (the
 * consumer not pulling while its processor works) as idle, so a shorter value would cut healthy
 * subscriptions of a slow processor (each cut costs a re-subscription, never a record). It is a
 * backstop only: Shardline puts its own deadline on every call (`clientWithDeadline`) and cuts a silent
 * subscription itself.
 */
export const KINESIS_HTTP2_STREAM_IDLE_TIMEOUT_MS = 300_000;

/** What {@link kinesisRequestHandler} passes to an HTTP/2 handler's constructor (`NodeHttp2Handler`). */
export interface Http2HandlerSettings {
  /**
   * Milliseconds a stream may stay idle (no frame either way) before it fails with a `TimeoutError`
   * ({@link KINESIS_HTTP2_STREAM_IDLE_TIMEOUT_MS}). An HTTP/2 handler has no connection timeout.
   */
  readonly requestTimeout: number;
  /**
   * Always true, as the Kinesis client's own default: each request opens its own HTTP/2 session (an event
   * stream such as `SubscribeToShard` gets one anyway), so one slow stream never holds up the others.
   */
  readonly disableConcurrentStreams: boolean;
}

/** Options of {@link kinesisRequestHandler}. */
export interface KinesisRequestHandlerOptions<H1, H2> {
  /**
   * The Kinesis endpoint the client is given (`--endpoint`, `AWS_ENDPOINT_URL_KINESIS`), or `undefined`
   * for the SDK's regional AWS endpoint.
   */
  readonly endpoint: string | undefined;
  /** The HTTP/1.1 handler class: `NodeHttpHandler` from `@smithy/node-http-handler`. */
  readonly http1Handler: new (
    options: HttpHandlerSettings,
  ) => H1;
  /** The HTTP/2 handler class: `NodeHttp2Handler` from `@smithy/node-http-handler`. */
  readonly http2Handler: new (
    options: Http2HandlerSettings,
  ) => H2;
  /** The HTTP/1.1 handler's timeouts. @defaultValue {@link HTTP_TIMEOUTS} */
  readonly timeouts?: HttpTimeouts;
  /**
   * The HTTP/2 handler's stream idle timeout, in milliseconds.
   * @defaultValue {@link KINESIS_HTTP2_STREAM_IDLE_TIMEOUT_MS} (5 minutes)
   */
  readonly http2StreamIdleTimeoutMs?: number;
}

/** Which HTTP version {@link kinesisRequestHandler} picks for an endpoint. */
export const KinesisHttpVersion = {
  /** Real AWS: `SubscribeToShard` (enhanced fan-out) is served over HTTP/2 only. */
  Http2: 'HTTP/2',
  /** Any other endpoint (the local emulators): kinesalite speaks HTTP/1.1 only, and kinesis-local serves `SubscribeToShard` over HTTP/1.1 only. */
  Http1: 'HTTP/1.1',
} as const;
/** A value of {@link KinesisHttpVersion}. */
export type KinesisHttpVersion = (typeof KinesisHttpVersion)[keyof typeof KinesisHttpVersion];

// AWS endpoint host names: `kinesis.<region>.amazonaws.com`, FIPS and VPC endpoints
// (`*.vpce.amazonaws.com`), China (`amazonaws.com.cn`) and dual-stack (`*.api.aws`).
const AWS_HOST = /(^|\.)(amazonaws\.com|amazonaws\.com\.cn|api\.aws)$/i;

/**
 * The HTTP version a Kinesis client needs for `endpoint`: HTTP/2 for AWS (no endpoint, or an AWS host
 * name such as a VPC endpoint), HTTP/1.1 for any other endpoint, which Shardline takes for a local
 * emulator. A value that is not a URL counts as local too: the SDK will reject it on its own.
 */
export function kinesisHttpVersion(endpoint: string | undefined): KinesisHttpVersion {
  if (endpoint === undefined || endpoint === '') return KinesisHttpVersion.Http2;
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return KinesisHttpVersion.Http1;
  }
  return AWS_HOST.test(host) ? KinesisHttpVersion.Http2 : KinesisHttpVersion.Http1;
}

/**
 * Builds the request handler of a Kinesis client for `endpoint`, with timeouts: HTTP/2
 * (`NodeHttp2Handler`, stream idle timeout {@link KINESIS_HTTP2_STREAM_IDLE_TIMEOUT_MS}) for real AWS, where `SubscribeToShard` (enhanced fan-out) works over HTTP/2 only,
 * and HTTP/1.1 (as {@link http1RequestHandler}) for an explicit non-AWS endpoint — the local emulators,
 * where kinesalite cannot speak HTTP/2 and kinesis-local serves `SubscribeToShard` over HTTP/1.1 only.
 * See {@link kinesisHttpVersion} for the rule.
 *
 * Only for Kinesis: DynamoDB and S3 clients keep {@link http1RequestHandler}.
 *
 * The handler classes are passed in, so this package depends on no AWS package.
 *
 * @example
 * ```ts
 * import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
 * const endpoint = process.env.AWS_ENDPOINT_URL_KINESIS;
 * const client = new KinesisClient({
 *   ...(endpoint ? { endpoint } : {}),
 *   requestHandler: kinesisRequestHandler({
 *     endpoint,
 *     http1Handler: NodeHttpHandler,
 *     http2Handler: NodeHttp2Handler,
 *   }),
 * });
 * ```
 */
export function kinesisRequestHandler<H1, H2>(options: KinesisRequestHandlerOptions<H1, H2>): H1 | H2 {
  return kinesisHttpVersion(options.endpoint) === KinesisHttpVersion.Http2
    ? new options.http2Handler({
        requestTimeout: options.http2StreamIdleTimeoutMs ?? KINESIS_HTTP2_STREAM_IDLE_TIMEOUT_MS,
        disableConcurrentStreams: true,
      })
    : http1RequestHandler(options.http1Handler, options.timeouts ?? HTTP_TIMEOUTS);
}

import {
  createIngestHandler,
  type IngestHandlerOptions,
  type IngestRequest,
  type IngestResponse,
} from '@shardline/ingest';

/**
 * The parts of an API Gateway REST API proxy event (payload format 1.0) the adapter reads. Compatible
 * with `APIGatewayProxyEvent` of `@types/aws-lambda`.
 */
export interface ApiGatewayProxyEvent {
  readonly httpMethod: string;
  /** The request path as the client sent it, e.g. `/v1/events`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly multiValueHeaders?: Readonly<Record<string, readonly string[] | undefined>> | null;
  /** Text, or base64 when `isBase64Encoded` (binary media types, e.g. gzip bodies). */
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
}

/** What the function returns to API Gateway. */
export interface ApiGatewayProxyResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly isBase64Encoded: boolean;
}

/** The parts of the Lambda context the adapter reads. */
export interface LambdaContextLike {
  /** Milliseconds until Lambda stops the invocation. */
  getRemainingTimeInMillis(): number;
}

/** A Lambda handler of API Gateway proxy events. */
export type ApiGatewayIngestHandler = (
  event: ApiGatewayProxyEvent,
  context?: LambdaContextLike,
) => Promise<ApiGatewayProxyResult>;

/**
 * Turns a proxy event into the handler's request. Multi-value headers win over single-value ones
 * (API Gateway puts the last value of a repeated header in `headers`); the body is base64-decoded
 * when API Gateway encoded it (binary media types such as gzip).
 */
export function toIngestRequest(event: ApiGatewayProxyEvent): IngestRequest {
  const headers: Record<string, string | readonly string[]> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (values !== undefined && values.length > 0)
      headers[name.toLowerCase()] = values.length === 1 ? values[0]! : values;
  }
  const raw = event.body ?? '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  return { method: event.httpMethod, path: event.path, headers, body };
}

/** Turns the handler's answer into a proxy result (JSON text bodies: never base64). */
export function toProxyResult(response: IngestResponse): ApiGatewayProxyResult {
  return {
    statusCode: response.status,
    headers: response.headers,
    body: response.body,
    isBase64Encoded: false,
  };
}

/** Time kept back from the Lambda deadline to answer after aborting upstream writes. */
const DEADLINE_MARGIN_MS = 1_000;

/**
 * Creates the Lambda handler behind API Gateway's proxy integration: the ingest contract's handler
 * with a proxy-event adapter, so AWS answers exactly like the local gateway. Upstream writes are
 * aborted shortly before the Lambda deadline, so the client gets a 503 (retry with the same ids)
 * instead of a bare timeout.
 *
 * @throws ConfigurationError (from `@shardline/ingest`) when options are wrong.
 * @example
 * ```ts
 * export const handler = createApiGatewayIngestHandler({
 *   recordWriter: new KinesisRecordWriter({ client: new KinesisClient({}), streamName: 'events' }),
 *   apiKeys: (key) => key.length > 0, // API Gateway has checked the key already
 * });
 * ```
 */
export function createApiGatewayIngestHandler(options: IngestHandlerOptions): ApiGatewayIngestHandler {
  const handle = createIngestHandler(options);
  return async (event, context) => {
    const remainingMs = context?.getRemainingTimeInMillis();
    const signal =
      remainingMs === undefined
        ? undefined
        : AbortSignal.timeout(Math.max(1, remainingMs - DEADLINE_MARGIN_MS));
    return toProxyResult(await handle(toIngestRequest(event), { signal }));
  };
}

import type { VectorRequest } from '@shardline/ingest/vectors';
import type { ApiGatewayProxyEvent } from '../../src/lambda/apiGatewayAdapter.js';

/** Lambda's synchronous invocation payload limit: 6 MB (6,291,456 bytes) of event JSON. */
export const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

/**
 * The proxy event API Gateway (REST, payload 1.0) hands the function for a request, with the API's
 * `binaryMediaTypes: ['application/*']`: an `application/…` body base64-encoded (exact bytes), any other
 * as UTF-8 text; headers as sent (the vectors send lower case); the stage prefix not part of `path`.
 */
export function proxyEventOf(request: VectorRequest): ApiGatewayProxyEvent {
  const headers: Record<string, string> = { ...request.headers };
  const multiValueHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]]));
  const isBinary = /^application\//i.test(headers['content-type'] ?? '');
  return {
    httpMethod: request.method,
    path: request.path,
    headers,
    multiValueHeaders,
    body: request.body.length === 0 ? null : Buffer.from(request.body).toString(isBinary ? 'base64' : 'utf8'),
    isBase64Encoded: request.body.length > 0 && isBinary,
  };
}

/** The size of the invocation payload Lambda receives for an event (the event as JSON). */
export function invocationBytes(event: ApiGatewayProxyEvent): number {
  return Buffer.byteLength(JSON.stringify(event), 'utf8');
}

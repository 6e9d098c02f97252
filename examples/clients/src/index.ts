// The examples' AWS clients. Endpoints, region and credentials come from the AWS_* environment variables
// (`pnpm local:up` prints those of the local twin; on AWS, the usual credential chain).
//
// Kinesis: HTTP/2 on AWS (enhanced fan-out's SubscribeToShard works over HTTP/2 only), HTTP/1.1 on a
// local endpoint (the emulators need it; kinesis-local serves SubscribeToShard over HTTP/1.1 only):
// kinesisRequestHandler picks by AWS_ENDPOINT_URL_KINESIS, which is also passed as the client's endpoint
// (so that the client knows it is a custom one, which is how Shardline tells a local emulator from AWS
// when it checks the handler). DynamoDB and S3: HTTP/1.1. All with timeouts (5 s connect, 30 s request;
// a missed request timeout throws instead of being only logged). Shardline also puts its own deadline on
// every call it makes (the consumer's `timeouts` option).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { http1RequestHandler, kinesisRequestHandler } from '@shardline/common';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** A Kinesis client: HTTP/2 on AWS, HTTP/1.1 on a local endpoint (`AWS_ENDPOINT_URL_KINESIS`). */
export function createKinesisClient(): KinesisClient {
  const endpoint = process.env.AWS_ENDPOINT_URL_KINESIS ?? process.env.AWS_ENDPOINT_URL;
  return new KinesisClient({
    ...(endpoint ? { endpoint } : {}),
    requestHandler: kinesisRequestHandler({
      endpoint,
      http1Handler: NodeHttpHandler,
      http2Handler: NodeHttp2Handler,
    }),
  });
}

/** A DynamoDB client over HTTP/1.1. */
export function createDynamoDBClient(): DynamoDBClient {
  return new DynamoDBClient({ requestHandler: http1RequestHandler(NodeHttpHandler) });
}

/**
 * An S3 client over HTTP/1.1; on a local endpoint (`AWS_ENDPOINT_URL_S3` set), with path-style
 * addressing and checksums only when required, as the emulators need.
 */
export function createS3Client(): S3Client {
  const isLocal = process.env.AWS_ENDPOINT_URL_S3 !== undefined;
  return new S3Client({
    requestHandler: http1RequestHandler(NodeHttpHandler),
    ...(isLocal ? { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
  });
}

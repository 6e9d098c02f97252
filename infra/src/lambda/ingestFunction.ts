// The Lambda entry of the ingest API's `function` mode: API Gateway proxy events → the ingest contract's
// handler → Kinesis. Configuration comes from the function's environment, set by the IngestApi construct.
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { kinesisRequestHandler } from '@shardline/common';
import { KinesisRecordWriter } from '@shardline/ingest';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { createApiGatewayIngestHandler } from './apiGatewayAdapter.js';

const streamName = process.env.STREAM_NAME;
if (streamName === undefined || streamName === '') throw new Error('STREAM_NAME is not set');
const origins = process.env.ALLOWED_ORIGINS ?? '*';

// HTTP/2 with timeouts on AWS (the Kinesis SDK's own choice of protocol), HTTP/1.1 if an endpoint for an
// emulator is set.
const requestHandler = kinesisRequestHandler({
  endpoint: process.env.AWS_ENDPOINT_URL_KINESIS ?? process.env.AWS_ENDPOINT_URL,
  http1Handler: NodeHttpHandler,
  http2Handler: NodeHttp2Handler,
});
/** The function's handler. */
export const handler = createApiGatewayIngestHandler({
  recordWriter: new KinesisRecordWriter({ client: new KinesisClient({ requestHandler }), streamName }),
  // Every method requires an API key and API Gateway checks it against the usage plan before the
  // function runs: here a key is only required to be present.
  apiKeys: (key) => key.length > 0,
  allowedOrigins: origins === '*' ? '*' : origins.split(',').map((o) => o.trim()),
  onError: (error) => console.error('ingest handler fault', error),
});

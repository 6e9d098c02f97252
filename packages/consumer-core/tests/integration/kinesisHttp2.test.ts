// The handler every Shardline entry point builds for AWS (`kinesisRequestHandler` with an AWS endpoint:
// `NodeHttp2Handler`) against a `node:http2` server standing in for Kinesis: the calls the CLIs and the
// consumer make arrive over HTTP/2 and their answers are read. The emulators cannot speak HTTP/2, so
// without this the AWS path of the helper would only be checked by its settings.
import { once } from 'node:events';
import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisHttpVersion, kinesisHttpVersion, kinesisRequestHandler } from '@shardline/common';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach, expect, it } from 'vitest';
import { listStreamConsumers } from '../../src/index.js';

let server: Http2Server | undefined;
afterEach(async () => {
  server?.close();
  server = undefined;
});

it('the handler picked for AWS speaks HTTP/2: a ListStreamConsumers call arrives as HTTP/2 and its answer is read', async () => {
  const seen: { httpVersion: string; target: string | undefined }[] = [];
  server = createServer((request, response) => {
    seen.push({ httpVersion: request.httpVersion, target: request.headers['x-amz-target'] as string });
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(
        JSON.stringify({
          Consumers: [
            {
              ConsumerName: 'orders-app',
              ConsumerARN: 'arn:aws:kinesis:eu-west-1:111111111111:stream/orders/consumer/orders-app:1',
              ConsumerStatus: 'ACTIVE',
              ConsumerCreationTimestamp: 1_700_000_000,
            },
          ],
        }),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const awsEndpoint = 'https://kinesis.eu-west-1.amazonaws.com';
  expect(kinesisHttpVersion(awsEndpoint)).toBe(KinesisHttpVersion.Http2);
  const requestHandler = kinesisRequestHandler({
    endpoint: awsEndpoint,
    http1Handler: NodeHttpHandler,
    http2Handler: NodeHttp2Handler,
  });
  expect(requestHandler).toBeInstanceOf(NodeHttp2Handler);
  // The same handler, aimed at the stand-in (h2c: HTTP/2 without TLS).
  const client = new KinesisClient({
    region: 'eu-west-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler,
    maxAttempts: 1,
  });
  try {
    const consumers = await listStreamConsumers({
      client,
      streamArn: 'arn:aws:kinesis:eu-west-1:111111111111:stream/orders',
      callTimeoutMs: 10_000,
    });
    expect(consumers.map((c) => [c.consumerName, c.status])).toEqual([['orders-app', 'ACTIVE']]);
  } finally {
    client.destroy();
  }
  expect(seen).toEqual([{ httpVersion: '2.0', target: 'Kinesis_20131202.ListStreamConsumers' }]);
}, 30_000);

// The ingest gateway as a service of the local twin: started by startLocalTwin() with
// `node --require watchdog.cjs main.js '<json options>'`, it reports its port on stdout as
//   SHARDLINE_READY {"port":12345}
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { http1RequestHandler } from '@shardline/common';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startIngestGateway } from './IngestGateway.js';

interface GatewayProcessOptions {
  readonly kinesisEndpoint: string;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly streamName: string;
  readonly apiKeys: string[];
  readonly port: number;
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const options = JSON.parse(process.argv[2] ?? '{}') as GatewayProcessOptions;
const kinesisClient = new KinesisClient({
  endpoint: options.kinesisEndpoint,
  region: options.region,
  credentials: options.credentials,
  requestHandler: http1RequestHandler(NodeHttpHandler),
});

try {
  const gateway = await startIngestGateway({
    kinesisClient,
    streamName: options.streamName,
    apiKeys: options.apiKeys,
    port: options.port,
    onError: (error) => process.stderr.write(`ingest gateway: ${String((error as Error)?.stack ?? error)}\n`),
  });
  process.on('shardline:shutdown' as 'exit', () => void gateway.close());
  process.stdout.write(`SHARDLINE_READY ${JSON.stringify({ port: gateway.port })}\n`);
} catch (error) {
  const code = (error as { port?: number }).port !== undefined ? 'EADDRINUSE' : undefined;
  process.stdout.write(
    `SHARDLINE_FAILED ${JSON.stringify({ code, message: String((error as Error).message) })}\n`,
  );
  process.exit(code ? 98 : 1);
}

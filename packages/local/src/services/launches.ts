import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { http1RequestHandler, PROBE_HTTP_TIMEOUTS } from '@shardline/common';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { LOCAL_CREDENTIALS } from '../clientConfig.js';
import type { ResolvedLocalTwinConfig } from '../config/resolveLocalTwinConfig.js';
import { PortInUseError } from '../errors.js';
import type { ServiceLaunch } from './ServiceProcess.js';

const require = createRequire(import.meta.url);
// src/services and dist/services are both two levels below the package root.
const runtimeDir = fileURLToPath(new URL('../../runtime/', import.meta.url));

/** The watchdog preloaded into every emulator process. */
export const WATCHDOG_PATH = join(runtimeDir, 'watchdog.cjs');
const HOST_PATH = join(runtimeDir, 'service-host.mjs');

function probeClientConfig(region: string, endpoint: string) {
  return {
    endpoint,
    region,
    credentials: { ...LOCAL_CREDENTIALS },
    requestHandler: http1RequestHandler(NodeHttpHandler, PROBE_HTTP_TIMEOUTS),
    maxAttempts: 1,
  };
}

/** Probes an emulator with one cheap call through a short-lived client. */
async function probeWith<C extends { destroy(): void }>(
  client: C,
  call: (client: C) => Promise<unknown>,
): Promise<void> {
  try {
    await call(client);
  } finally {
    client.destroy();
  }
}

async function probeKinesis(region: string, endpoint: string): Promise<void> {
  return probeWith(new KinesisClient(probeClientConfig(region, endpoint)), (client) =>
    client.send(new ListStreamsCommand({ Limit: 1 })),
  );
}

async function probeDynamoDB(region: string, endpoint: string): Promise<void> {
  return probeWith(new DynamoDBClient(probeClientConfig(region, endpoint)), (client) =>
    client.send(new ListTablesCommand({ Limit: 1 })),
  );
}

async function probeS3(region: string, endpoint: string): Promise<void> {
  return probeWith(new S3Client({ ...probeClientConfig(region, endpoint), forcePathStyle: true }), (client) =>
    client.send(new ListBucketsCommand({})),
  );
}

/**
 * A pure-JS emulator run by the service host: it listens on the service's configured port and keeps its
 * data under `<dataDir>/<service>` when the twin persists.
 */
function hostLaunch(
  config: ResolvedLocalTwinConfig,
  service: 'kinesis' | 'dynamodb' | 's3',
  engine: string,
  engineOptions: Record<string, unknown>,
  probe: ServiceLaunch['probe'],
): ServiceLaunch {
  const options = {
    port: config.ports[service],
    path: config.dataDir ? join(config.dataDir, service) : undefined,
    ...engineOptions,
  };
  return { service, engine, args: [HOST_PATH, engine, JSON.stringify(options)], probe };
}

/** kinesalite in a host process. */
export function kinesaliteLaunch(config: ResolvedLocalTwinConfig): ServiceLaunch {
  return hostLaunch(
    config,
    'kinesis',
    'kinesalite',
    { stateTransitionMs: config.stateTransitionMs, shardLimit: config.shardLimit },
    (endpoint) => probeKinesis(config.region, endpoint),
  );
}

/** dynalite in a host process. */
export function dynaliteLaunch(config: ResolvedLocalTwinConfig): ServiceLaunch {
  return hostLaunch(
    config,
    'dynamodb',
    'dynalite',
    { stateTransitionMs: config.stateTransitionMs },
    (endpoint) => probeDynamoDB(config.region, endpoint),
  );
}

/** fauxqs (S3 only is used) in a host process. */
export function fauxqsLaunch(config: ResolvedLocalTwinConfig): ServiceLaunch {
  return hostLaunch(config, 's3', 'fauxqs', { region: config.region }, (endpoint) =>
    probeS3(config.region, endpoint),
  );
}

/**
 * kinesis-local (a JS build of kinesis-mock). It cannot run inside another process and always listens on
 * every interface, on a plain and a TLS port, so both ports are chosen here.
 */
export async function kinesisLocalLaunch(config: ResolvedLocalTwinConfig): Promise<ServiceLaunch> {
  const packageDir = dirname(require.resolve('kinesis-local/package.json'));
  const plainPort = await portFor('kinesis (kinesis-local)', config.ports.kinesis, '0.0.0.0');
  const tlsPort = await portFor('kinesis TLS (kinesis-local)', config.ports.kinesisTls, '0.0.0.0', [
    plainPort,
  ]);
  const duration = `${config.stateTransitionMs}ms`;
  const env: NodeJS.ProcessEnv = {
    KINESIS_MOCK_PLAIN_PORT: String(plainPort),
    KINESIS_MOCK_TLS_PORT: String(tlsPort),
    KINESIS_MOCK_CERT_PATH: join(packageDir, 'server.json'),
    AWS_REGION: config.region,
    SHARD_LIMIT: String(config.shardLimit),
    LOG_LEVEL: 'WARN',
    CREATE_STREAM_DURATION: duration,
    DELETE_STREAM_DURATION: duration,
    UPDATE_SHARD_COUNT_DURATION: duration,
    SPLIT_SHARD_DURATION: duration,
    MERGE_SHARDS_DURATION: duration,
    REGISTER_STREAM_CONSUMER_DURATION: duration,
    DEREGISTER_STREAM_CONSUMER_DURATION: duration,
    START_STREAM_ENCRYPTION_DURATION: duration,
    STOP_STREAM_ENCRYPTION_DURATION: duration,
    UPDATE_STREAM_MODE_DURATION: duration,
  };
  if (config.dataDir) {
    Object.assign(env, {
      SHOULD_PERSIST_DATA: 'true',
      LOAD_DATA_IF_EXISTS: 'true',
      PERSIST_PATH: join(config.dataDir, 'kinesis-faithful'),
      PERSIST_INTERVAL: '1s',
    });
  }
  return {
    service: 'kinesis',
    engine: 'kinesis-local',
    args: [join(packageDir, 'main.js')],
    env,
    port: plainPort,
    probe: (endpoint) => probeKinesis(config.region, endpoint),
  };
}

const GATEWAY_MAIN = fileURLToPath(
  new URL(`../gateway/main.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url),
);

/**
 * The ingest gateway in its own process, writing to `streamName` on `kinesisEndpoint`. From sources
 * (`.ts`), it runs through tsx with the `@shardline/source` condition, as the tests do.
 */
export function gatewayLaunch(
  config: ResolvedLocalTwinConfig,
  gateway: { streamName: string; apiKeys: readonly string[] },
  kinesisEndpoint: string,
): ServiceLaunch {
  const fromSource = GATEWAY_MAIN.endsWith('.ts');
  const loader = fromSource ? ['--conditions=@shardline/source', '--import', import.meta.resolve('tsx')] : [];
  const options = {
    kinesisEndpoint,
    region: config.region,
    credentials: { ...LOCAL_CREDENTIALS },
    streamName: gateway.streamName,
    apiKeys: gateway.apiKeys,
    port: config.ports.gateway,
  };
  return {
    service: 'gateway',
    engine: 'shardline-ingest',
    args: [...loader, GATEWAY_MAIN, JSON.stringify(options)],
    probe: async (endpoint) => {
      // Any HTTP answer from the contract handler (a 404 here) proves it serves.
      const response = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2_000) });
      if (!response.headers.get('content-type')?.startsWith('application/json')) {
        throw new Error(`unexpected answer ${response.status}`);
      }
    },
  };
}

/** An explicit port is checked to be free (for a clear error); `0` gets a free one. */
export async function portFor(
  service: string,
  port: number,
  host: string,
  avoid: number[] = [],
): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const found = await tryListen(port, host);
    if (found.ok) {
      if (port !== 0 || !avoid.includes(found.port)) return found.port;
    } else if (port !== 0) {
      throw new PortInUseError(service, port, found.error);
    }
    if (attempt > 20) throw new PortInUseError(service, port, found.ok ? undefined : found.error);
  }
}

function tryListen(
  port: number,
  host: string,
): Promise<{ ok: true; port: number } | { ok: false; error: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, error }));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const chosen = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolve({ ok: true, port: chosen }));
    });
  });
}

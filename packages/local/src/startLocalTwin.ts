import { mkdirSync } from 'node:fs';
import { LOCAL_CREDENTIALS, type LocalTwinInfo } from './clientConfig.js';
import { type LocalTwinOptions, resolveLocalTwinConfig } from './config/resolveLocalTwinConfig.js';
import { LocalTwinClient } from './LocalTwinClient.js';
import {
  dynaliteLaunch,
  fauxqsLaunch,
  gatewayLaunch,
  kinesaliteLaunch,
  kinesisLocalLaunch,
  WATCHDOG_PATH,
} from './services/launches.js';
import { type ServiceLaunch, ServiceProcess } from './services/ServiceProcess.js';

/** A running service of a {@link LocalTwin}. */
export interface LocalService {
  /** `kinesis`, `dynamodb` or `s3`. */
  readonly service: string;
  /** The emulator: `kinesalite`, `kinesis-local`, `dynalite` or `fauxqs`. */
  readonly engine: string;
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number | undefined;
}

/** Lifecycle of a {@link LocalTwin}. */
export type LocalTwinState = 'running' | 'stopping' | 'stopped';

/**
 * The local AWS twin: emulators for Kinesis, DynamoDB and S3, each a child process on 127.0.0.1, plus
 * the helpers of {@link LocalTwinClient}. Made by {@link startLocalTwin}.
 */
export class LocalTwin extends LocalTwinClient {
  /** The running services. */
  readonly services: readonly LocalService[];
  readonly #processes: readonly ServiceProcess[];
  #state: LocalTwinState = 'running';
  #stopping: Promise<void> | undefined;

  /** @internal */
  constructor(info: LocalTwinInfo, processes: readonly ServiceProcess[]) {
    super(info);
    this.#processes = processes;
    this.services = processes.map((p) => ({
      service: p.service,
      engine: p.engine,
      endpoint: p.endpoint,
      port: p.port,
      pid: p.pid,
    }));
  }

  /** `running` until `stop()` is called. */
  get state(): LocalTwinState {
    return this.#state;
  }

  /** Stops every service (and destroys the helper clients). Safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = 'stopping';
      this.close();
      await Promise.allSettled(this.#processes.map((p) => p.stop()));
      this.#state = 'stopped';
    })();
    return this.#stopping;
  }

  /** `await using stack = await startLocalTwin()` stops it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Starts the local AWS twin and resolves once every service has answered a real request.
 *
 * Every service listens on 127.0.0.1 on a free port (kinesis-local, the `faithful` Kinesis, also on
 * other interfaces: it cannot bind loopback only). The services end when `stop()` is called, when the
 * owning process exits, and within a second when the owning process is killed (even with SIGKILL).
 *
 * @example
 * ```ts
 * const stack = await startLocalTwin();
 * await stack.createStream('events', { shardCount: 4 });
 * const kinesis = new KinesisClient(kinesisClientConfig(stack.info));
 * // ...
 * await stack.stop();
 * ```
 *
 * @throws {@link ConfigurationError} listing every problem with `options`.
 * @throws {@link PortInUseError} when an explicit port is taken.
 * @throws {@link ServiceStartError} when a service exits or does not answer in time (with its exit code
 *   and last output); the services already started are stopped first.
 */
export async function startLocalTwin(options: LocalTwinOptions = {}): Promise<LocalTwin> {
  const config = resolveLocalTwinConfig(options);
  if (config.dataDir) mkdirSync(config.dataDir, { recursive: true });

  const launches: Promise<ServiceLaunch>[] = [];
  if (config.kinesis === 'fast') launches.push(Promise.resolve(kinesaliteLaunch(config)));
  if (config.kinesis === 'faithful') launches.push(kinesisLocalLaunch(config));
  if (config.dynamodb) launches.push(Promise.resolve(dynaliteLaunch(config)));
  if (config.s3) launches.push(Promise.resolve(fauxqsLaunch(config)));

  const started = await Promise.allSettled(
    launches.map(async (launch) =>
      ServiceProcess.start(await launch, {
        timeoutMs: config.startTimeoutMs,
        watchdogPath: WATCHDOG_PATH,
        signal: config.signal,
      }),
    ),
  );
  const processes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    await Promise.allSettled(processes.map((p) => p.stop()));
    throw failure.reason;
  }

  const endpoint = (service: string) => processes.find((p) => p.service === service)?.endpoint;
  let info: LocalTwinInfo = {
    region: config.region,
    credentials: { ...LOCAL_CREDENTIALS },
    endpoints: {
      ...(endpoint('kinesis') ? { kinesis: endpoint('kinesis') } : {}),
      ...(endpoint('dynamodb') ? { dynamodb: endpoint('dynamodb') } : {}),
      ...(endpoint('s3') ? { s3: endpoint('s3') } : {}),
    },
    kinesisEngine: config.kinesis === false ? null : config.kinesis,
  };
  if (config.gateway) {
    // The gateway needs its stream: create it (or find it, with a data directory) before starting.
    const helper = new LocalTwinClient(info);
    try {
      await helper
        .createStream(config.gateway.streamName, { shardCount: config.gateway.shardCount })
        .catch(async (error) => {
          if ((error as Error).name !== 'ResourceInUseException') throw error;
          await helper.waitForStream(config.gateway ? config.gateway.streamName : '');
        });
      const gateway = await ServiceProcess.start(
        gatewayLaunch(config, config.gateway, info.endpoints.kinesis!),
        {
          timeoutMs: config.startTimeoutMs,
          watchdogPath: WATCHDOG_PATH,
          signal: config.signal,
        },
      );
      processes.push(gateway);
      info = {
        ...info,
        endpoints: { ...info.endpoints, ingest: gateway.endpoint },
        ingest: {
          url: gateway.endpoint,
          apiKey: config.gateway.apiKeys[0]!,
          streamName: config.gateway.streamName,
        },
      };
    } catch (error) {
      await Promise.allSettled(processes.map((p) => p.stop()));
      throw error;
    } finally {
      helper.close();
    }
  }
  const stack = new LocalTwin(info, processes);
  for (const p of processes) {
    void p.ended.then((end) => {
      if (stack.state === 'running') {
        config.onServiceExit?.({ service: p.service, ...end, outputTail: p.outputTail });
      }
    });
  }
  return stack;
}

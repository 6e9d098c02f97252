import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { ProblemList } from '@shardline/common';
import { ConfigurationError } from '../errors.js';

/** Which Kinesis emulator to run. */
export const KinesisEngine = {
  /** kinesalite: fast, pure JS; no resharding, `ChildShards`, stream ARNs or enhanced fan-out. */
  Fast: 'fast',
  /** kinesis-local (kinesis-mock): resharding, `ChildShards`, stream ARNs, `SubscribeToShard`. */
  Faithful: 'faithful',
} as const;
/** Which Kinesis emulator to run. */
export type KinesisEngine = (typeof KinesisEngine)[keyof typeof KinesisEngine];

/** Ports to listen on. `0` (the default) picks a free port. */
export interface LocalTwinPorts {
  /** Kinesis (plain HTTP). @defaultValue 0 */
  readonly kinesis?: number;
  /** kinesis-local's TLS port, which it always opens. @defaultValue 0 */
  readonly kinesisTls?: number;
  /** DynamoDB. @defaultValue 0 */
  readonly dynamodb?: number;
  /** S3. @defaultValue 0 */
  readonly s3?: number;
  /** The ingest gateway. @defaultValue 0 */
  readonly gateway?: number;
}

/** The local ingest gateway: the ingest API (`POST /v1/events`) writing to a stream of the twin. */
export interface LocalGatewayOptions {
  /** The stream it writes to; created when missing. @defaultValue `'events'` */
  readonly streamName?: string;
  /** Shards of the stream when it is created. @defaultValue 4 */
  readonly shardCount?: number;
  /** Accepted `x-api-key` values. @defaultValue one random key, in `info.ingest.apiKey` */
  readonly apiKeys?: readonly string[];
}

/** Options of {@link startLocalTwin}. */
export interface LocalTwinOptions {
  /** The Kinesis emulator, or `false` for none. @defaultValue `'fast'` */
  readonly kinesis?: KinesisEngine | false;
  /** Whether to run the DynamoDB emulator (dynalite). @defaultValue true */
  readonly dynamodb?: boolean;
  /** Whether to run the S3 emulator (fauxqs). @defaultValue true */
  readonly s3?: boolean;
  /**
   * Also run the ingest gateway (needs Kinesis): `true` for the defaults of {@link LocalGatewayOptions}.
   * @defaultValue false
   */
  readonly gateway?: boolean | LocalGatewayOptions;
  /** Ports to listen on; every service listens on 127.0.0.1 (kinesis-local on all interfaces). */
  readonly ports?: LocalTwinPorts;
  /**
   * A directory where the services keep their data across restarts. Without it everything is in memory
   * and gone when the stack stops. @defaultValue undefined (in memory)
   */
  readonly dataDir?: string;
  /** The region the clients are configured with. @defaultValue `'us-east-1'` */
  readonly region?: string;
  /**
   * How long streams and tables stay in `CREATING`/`UPDATING`/`DELETING`. AWS takes seconds; tests want
   * little. @defaultValue 50
   */
  readonly stateTransitionMs?: number;
  /** Maximum open shards per emulator (AWS's default quota is 500 or 200 by region). @defaultValue 10000 */
  readonly shardLimit?: number;
  /** How long to wait for every service to answer its first request. @defaultValue 30000 */
  readonly startTimeoutMs?: number;
  /** Aborting it during start stops what has started and rejects. */
  readonly signal?: AbortSignal;
  /** Called when a service exits on its own after the stack has started. */
  readonly onServiceExit?: (exit: ServiceExit) => void;
}

/** A service that ended while the stack was running. */
export interface ServiceExit {
  /** The service: `kinesis`, `dynamodb` or `s3`. */
  readonly service: string;
  /** Its exit code, when it exited. */
  readonly exitCode: number | null;
  /** The signal that ended it, when one did. */
  readonly signal: NodeJS.Signals | null;
  /** The last lines it wrote. */
  readonly outputTail: string;
}

/** {@link LocalTwinOptions} after defaults, validated. */
export interface ResolvedLocalTwinConfig {
  readonly kinesis: KinesisEngine | false;
  readonly dynamodb: boolean;
  readonly s3: boolean;
  readonly gateway: Required<LocalGatewayOptions> | false;
  readonly ports: Required<LocalTwinPorts>;
  readonly dataDir: string | undefined;
  readonly region: string;
  readonly stateTransitionMs: number;
  readonly shardLimit: number;
  readonly startTimeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly onServiceExit: ((exit: ServiceExit) => void) | undefined;
}

/** Defaults of {@link LocalTwinOptions}. */
export const LOCAL_TWIN_DEFAULTS = {
  kinesis: KinesisEngine.Fast,
  dynamodb: true,
  s3: true,
  ports: { kinesis: 0, kinesisTls: 0, dynamodb: 0, s3: 0, gateway: 0 },
  gateway: { streamName: 'events', shardCount: 4 },
  region: 'us-east-1',
  stateTransitionMs: 50,
  shardLimit: 10_000,
  startTimeoutMs: 30_000,
} as const;

const KNOWN_KEYS = new Set([
  'kinesis',
  'dynamodb',
  's3',
  'gateway',
  'ports',
  'dataDir',
  'region',
  'stateTransitionMs',
  'shardLimit',
  'startTimeoutMs',
  'signal',
  'onServiceExit',
]);
const KNOWN_PORTS = new Set(['kinesis', 'kinesisTls', 'dynamodb', 's3', 'gateway']);

/**
 * Merges {@link LOCAL_TWIN_DEFAULTS} with `options` and validates every field.
 *
 * @throws {@link ConfigurationError} listing every problem found.
 */
export function resolveLocalTwinConfig(options: LocalTwinOptions = {}): ResolvedLocalTwinConfig {
  const problems = new ProblemList('local twin options');

  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError([{ path: '(options)', message: 'must be an object' }], 'local twin options');
  }
  problems.unknownKeys(options, KNOWN_KEYS);

  const kinesis = options.kinesis ?? LOCAL_TWIN_DEFAULTS.kinesis;
  if (kinesis !== false && kinesis !== 'fast' && kinesis !== 'faithful') {
    problems.add('kinesis', `must be 'fast', 'faithful' or false, got ${JSON.stringify(kinesis)}`);
  }
  const dynamodb = options.dynamodb ?? LOCAL_TWIN_DEFAULTS.dynamodb;
  if (typeof dynamodb !== 'boolean') problems.add('dynamodb', 'must be a boolean');
  const s3 = options.s3 ?? LOCAL_TWIN_DEFAULTS.s3;
  if (typeof s3 !== 'boolean') problems.add('s3', 'must be a boolean');

  const ports = { ...LOCAL_TWIN_DEFAULTS.ports };
  if (options.ports !== undefined) {
    if (typeof options.ports !== 'object' || options.ports === null) {
      problems.add('ports', 'must be an object');
    } else {
      for (const [name, value] of Object.entries(options.ports)) {
        if (!KNOWN_PORTS.has(name)) {
          problems.add(
            `ports.${name}`,
            'unknown port name (known: kinesis, kinesisTls, dynamodb, s3, gateway)',
          );
        } else if (value !== undefined) {
          if (!Number.isInteger(value) || value < 0 || value > 65_535) {
            problems.add(`ports.${name}`, `must be an integer from 0 to 65535, got ${JSON.stringify(value)}`);
          } else {
            ports[name as keyof typeof ports] = value;
          }
        }
      }
      const explicit = Object.entries(ports).filter(([, port]) => port !== 0);
      const seen = new Map<number, string>();
      for (const [name, port] of explicit) {
        const other = seen.get(port);
        if (other) problems.add(`ports.${name}`, `port ${port} is also given to ports.${other}`);
        seen.set(port, name);
      }
    }
  }

  let gateway: Required<LocalGatewayOptions> | false = false;
  if (options.gateway !== undefined && options.gateway !== false) {
    const g: LocalGatewayOptions = options.gateway === true ? {} : options.gateway;
    if (typeof g !== 'object' || g === null) {
      problems.add('gateway', 'must be a boolean or an object');
    } else {
      for (const key of Object.keys(g)) {
        if (!['streamName', 'shardCount', 'apiKeys'].includes(key))
          problems.add(`gateway.${key}`, 'unknown option');
      }
      const streamName = g.streamName ?? LOCAL_TWIN_DEFAULTS.gateway.streamName;
      if (typeof streamName !== 'string' || !/^[a-zA-Z0-9_.-]{1,128}$/.test(streamName)) {
        problems.add('gateway.streamName', 'must be a stream name (1–128 of a-z A-Z 0-9 _ . -)');
      }
      const shardCount = g.shardCount ?? LOCAL_TWIN_DEFAULTS.gateway.shardCount;
      if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 1_000) {
        problems.add(
          'gateway.shardCount',
          `must be an integer from 1 to 1000, got ${JSON.stringify(shardCount)}`,
        );
      }
      const apiKeys = g.apiKeys ?? [`local-${randomBytes(12).toString('hex')}`];
      if (
        !Array.isArray(apiKeys) ||
        apiKeys.length === 0 ||
        apiKeys.some((k) => typeof k !== 'string' || k === '')
      ) {
        problems.add('gateway.apiKeys', 'must be a non-empty list of non-empty strings');
      }
      if (kinesis === false) problems.add('gateway', 'needs a Kinesis emulator (kinesis is false)');
      gateway = { streamName, shardCount, apiKeys: [...apiKeys] };
    }
  }

  let dataDir: string | undefined;
  if (options.dataDir !== undefined) {
    if (typeof options.dataDir !== 'string' || options.dataDir.trim() === '') {
      problems.add('dataDir', 'must be a non-empty path');
    } else {
      dataDir = isAbsolute(options.dataDir) ? options.dataDir : resolve(options.dataDir);
    }
  }

  const region = options.region ?? LOCAL_TWIN_DEFAULTS.region;
  if (typeof region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    problems.add('region', `must look like an AWS region (us-east-1), got ${JSON.stringify(region)}`);
  }

  const stateTransitionMs = options.stateTransitionMs ?? LOCAL_TWIN_DEFAULTS.stateTransitionMs;
  problems.integer('stateTransitionMs', stateTransitionMs, 0, 60_000);
  const shardLimit = options.shardLimit ?? LOCAL_TWIN_DEFAULTS.shardLimit;
  problems.integer('shardLimit', shardLimit, 1, 1_000_000);
  const startTimeoutMs = options.startTimeoutMs ?? LOCAL_TWIN_DEFAULTS.startTimeoutMs;
  problems.integer('startTimeoutMs', startTimeoutMs, 100, 600_000);

  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    problems.add('signal', 'must be an AbortSignal');
  }
  if (options.onServiceExit !== undefined && typeof options.onServiceExit !== 'function') {
    problems.add('onServiceExit', 'must be a function');
  }
  if (kinesis === false && dynamodb === false && s3 === false) {
    problems.add('(options)', 'every service is disabled: enable at least one of kinesis, dynamodb, s3');
  }

  problems.throwIfAny();
  return {
    kinesis,
    dynamodb,
    s3,
    gateway,
    ports,
    dataDir,
    region,
    stateTransitionMs,
    shardLimit,
    startTimeoutMs,
    signal: options.signal,
    onServiceExit: options.onServiceExit,
  };
}

import { ProblemList } from '@shardline/common';
import type { MetricsLogger } from './MetricsLogger.js';

/** The kinds of metrics exporter. */
export const MetricsExporterKind = {
  /** An HTTP endpoint Prometheus scrapes (`GET /metrics`). */
  Prometheus: 'prometheus',
  /** CloudWatch embedded metric format: one JSON line per dimension set on stdout, every flush. */
  Emf: 'emf',
} as const;
/** A kind of metrics exporter. */
export type MetricsExporterKind = (typeof MetricsExporterKind)[keyof typeof MetricsExporterKind];

/** A Prometheus endpoint. */
export interface PrometheusExporterOptions {
  /** A Prometheus endpoint. */
  readonly kind: 'prometheus';
  /** The TCP port of `GET /metrics` (1 to 65535). */
  readonly port: number;
  /**
   * The address to bind. Prometheus scrapes from another host, so all interfaces by default; the
   * metrics carry stream, application and shard names, no record data.
   * @defaultValue `'0.0.0.0'`
   */
  readonly host?: string;
  /** Where the exporter reports its own failures (port in use). @defaultValue one line on stderr */
  readonly logger?: MetricsLogger;
}

/** CloudWatch embedded-metric-format lines. */
export interface EmfExporterOptions {
  /** CloudWatch embedded metric format on stdout. */
  readonly kind: 'emf';
  /** The CloudWatch namespace (1 to 255 characters, no leading colon). @defaultValue `'Shardline'` */
  readonly namespace?: string;
  /** How often metrics are written; they are also written at shutdown. @defaultValue 60000 */
  readonly flushIntervalMs?: number;
  /**
   * Attributes that do not become dimensions (each distinct dimension set is a CloudWatch metric, billed
   * by the month): their points are merged (counts added, gauges and maxima the maximum).
   * @defaultValue `['shardline.shard.id', 'shardline.worker.id']`
   */
  readonly droppedAttributes?: readonly string[];
  /**
   * Dimensions that get a second, rolled-up dimension set: a document with more dimensions (e.g. the
   * sink's `shardline.s3_sink.error_output.type`) is also published under these alone, so that one
   * alarm covers every error type of an application.
   * @defaultValue `['shardline.application', 'shardline.stream', 'shardline.producer.transport']`
   */
  readonly rollupDimensions?: readonly string[];
  /**
   * Writes one line (newline included). @defaultValue `process.stdout`, given up (with one warning on
   * stderr) once stdout fails, e.g. closed
   */
  readonly write?: (line: string) => void;
  /** The wall clock of the documents' `Timestamp` (tests). @defaultValue `Date.now` */
  readonly now?: () => number;
  /** Where the exporter reports its own failures. @defaultValue one line on stderr */
  readonly logger?: MetricsLogger;
}

/** Which metrics exporter, and its settings: see {@link createMetricsExporter}. */
export type MetricsExporterOptions = PrometheusExporterOptions | EmfExporterOptions;

/** The defaults of {@link MetricsExporterOptions}. */
export const METRICS_EXPORTER_DEFAULTS = {
  host: '0.0.0.0',
  namespace: 'Shardline',
  flushIntervalMs: 60_000,
  droppedAttributes: ['shardline.shard.id', 'shardline.worker.id'],
  rollupDimensions: ['shardline.application', 'shardline.stream', 'shardline.producer.transport'],
} as const;

/** {@link MetricsExporterOptions} after defaults. */
export type ResolvedMetricsExporterConfig =
  | {
      readonly kind: 'prometheus';
      readonly port: number;
      readonly host: string;
      readonly logger?: MetricsLogger;
    }
  | {
      readonly kind: 'emf';
      readonly namespace: string;
      readonly flushIntervalMs: number;
      readonly droppedAttributes: ReadonlySet<string>;
      readonly rollupDimensions: ReadonlySet<string>;
      readonly write?: (line: string) => void;
      readonly now: () => number;
      readonly logger?: MetricsLogger;
    };

const PROMETHEUS_KEYS = new Set(['kind', 'port', 'host', 'logger']);
const EMF_KEYS = new Set([
  'kind',
  'namespace',
  'flushIntervalMs',
  'droppedAttributes',
  'rollupDimensions',
  'write',
  'now',
  'logger',
]);

/**
 * Merges defaults into `options` and checks every field.
 *
 * @throws `ConfigurationError` listing every problem.
 */
export function resolveMetricsExporterConfig(options: MetricsExporterOptions): ResolvedMetricsExporterConfig {
  const problems = new ProblemList('metrics exporter options');
  if (typeof options !== 'object' || options === null) {
    problems.add('metrics', 'must be { kind: "prometheus", port } or { kind: "emf" }');
    problems.throwIfAny();
  }
  const logger = options.logger;
  if (logger !== undefined && typeof (logger as { warn?: unknown }).warn !== 'function') {
    problems.add('logger', 'must have a warn method');
  }
  if (options.kind === 'prometheus') {
    problems.unknownKeys(options, PROMETHEUS_KEYS);
    const port = problems.integer('port', options.port, 1, 65_535);
    const host = options.host ?? METRICS_EXPORTER_DEFAULTS.host;
    if (typeof host !== 'string' || host.length === 0) problems.add('host', 'must be a non-empty string');
    problems.throwIfAny();
    return { kind: 'prometheus', port, host, ...(logger === undefined ? {} : { logger }) };
  }
  if (options.kind === 'emf') {
    problems.unknownKeys(options, EMF_KEYS);
    const namespace = options.namespace ?? METRICS_EXPORTER_DEFAULTS.namespace;
    checkNamespace(problems, namespace);
    const flushIntervalMs = problems.integer(
      'flushIntervalMs',
      options.flushIntervalMs ?? METRICS_EXPORTER_DEFAULTS.flushIntervalMs,
      1_000,
      3_600_000,
    );
    const dropped = options.droppedAttributes ?? METRICS_EXPORTER_DEFAULTS.droppedAttributes;
    if (!Array.isArray(dropped) || dropped.some((a) => typeof a !== 'string')) {
      problems.add('droppedAttributes', 'must be an array of attribute names');
    }
    const rollup = options.rollupDimensions ?? METRICS_EXPORTER_DEFAULTS.rollupDimensions;
    if (!Array.isArray(rollup) || rollup.some((a) => typeof a !== 'string')) {
      problems.add('rollupDimensions', 'must be an array of attribute names');
    }
    if (options.write !== undefined && typeof options.write !== 'function')
      problems.add('write', 'must be a function');
    if (options.now !== undefined && typeof options.now !== 'function')
      problems.add('now', 'must be a function');
    problems.throwIfAny();
    return {
      kind: 'emf',
      namespace,
      flushIntervalMs,
      droppedAttributes: new Set(dropped),
      rollupDimensions: new Set(rollup),
      now: options.now ?? Date.now,
      ...(options.write === undefined ? {} : { write: options.write }),
      ...(logger === undefined ? {} : { logger }),
    };
  }
  problems.add(
    'kind',
    `must be "prometheus" or "emf", got ${JSON.stringify((options as { kind?: unknown }).kind)}`,
  );
  problems.throwIfAny();
  throw new Error('unreachable');
}

/** CloudWatch: a namespace is 1 to 255 characters of `[0-9A-Za-z.\-_/#:]` and does not start with `:`. */
function checkNamespace(problems: ProblemList, namespace: unknown): void {
  if (
    typeof namespace !== 'string' ||
    !/^[0-9A-Za-z.\-_/#:]{1,255}$/.test(namespace) ||
    namespace.startsWith(':') ||
    namespace.startsWith('AWS/')
  ) {
    problems.add(
      'namespace',
      `must be 1 to 255 characters of letters, digits and . - _ / # :, not starting with ":" or "AWS/", got ${JSON.stringify(namespace)}`,
    );
  }
}

/**
 * Parses the `--metrics` flag of the Shardline CLIs: `prometheus:<port>`, `prometheus:<host>:<port>`,
 * `emf` or `emf:<namespace>`.
 *
 * @throws `ConfigurationError` listing every problem of the value.
 * @example
 * ```ts
 * parseMetricsFlag('prometheus:9464'); // { kind: 'prometheus', port: 9464 }
 * parseMetricsFlag('emf:Orders');      // { kind: 'emf', namespace: 'Orders' }
 * ```
 */
export function parseMetricsFlag(value: string, flag = '--metrics'): MetricsExporterOptions {
  const problems = new ProblemList(`${flag} value`);
  const usage = 'prometheus:<port>, prometheus:<host>:<port>, emf or emf:<namespace>';
  const colon = value.indexOf(':');
  const kind = colon === -1 ? value : value.slice(0, colon);
  const rest = colon === -1 ? undefined : value.slice(colon + 1);
  if (kind === 'prometheus') {
    if (rest === undefined || rest === '') {
      problems.add(
        flag,
        `prometheus needs a port: prometheus:<port> (e.g. prometheus:9464), got ${JSON.stringify(value)}`,
      );
      problems.throwIfAny();
    }
    const lastColon = (rest as string).lastIndexOf(':');
    const host = lastColon === -1 ? undefined : (rest as string).slice(0, lastColon);
    const portText = lastColon === -1 ? (rest as string) : (rest as string).slice(lastColon + 1);
    const port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      problems.add(flag, `the port must be an integer from 1 to 65535, got ${JSON.stringify(portText)}`);
    }
    if (host !== undefined && host.length === 0)
      problems.add(flag, `the host before the port is empty in ${JSON.stringify(value)}`);
    problems.throwIfAny();
    return { kind: 'prometheus', port, ...(host === undefined ? {} : { host }) };
  }
  if (kind === 'emf') {
    if (rest === undefined) return { kind: 'emf' };
    checkNamespace(problems, rest);
    problems.throwIfAny();
    return { kind: 'emf', namespace: rest };
  }
  problems.add(flag, `unknown metrics exporter ${JSON.stringify(kind)}: use ${usage}`);
  problems.throwIfAny();
  throw new Error('unreachable');
}

import type { MeterProvider } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { PeriodicExportingMetricReader, MeterProvider as SdkMeterProvider } from '@opentelemetry/sdk-metrics';
import { EmfExporter } from './emf/EmfExporter.js';
import {
  type MetricsExporterOptions,
  type ResolvedMetricsExporterConfig,
  resolveMetricsExporterConfig,
} from './MetricsExporterOptions.js';
import { type MetricsLogger, stderrLogger } from './MetricsLogger.js';
import { streamWriter } from './streamWriter.js';

/** A running metrics exporter: pass its `meterProvider` to a consumer, the sink or the producer. */
export interface MetricsExporter {
  /** The provider whose instruments this exporter publishes. */
  readonly meterProvider: MeterProvider;
  /** `prometheus http://0.0.0.0:9464/metrics` or `emf namespace Shardline every 60 s`, for start-up logs. */
  readonly description: string;
  /**
   * Settles when the exporter is ready: the endpoint listens (`true`) or could not (`false`, reported
   * to the logger: the pipeline runs on without it). Always `true` for EMF. Never rejects.
   */
  readonly ready: Promise<boolean>;
  /**
   * Stops the exporter: EMF writes a last flush, Prometheus closes its port. Memoized; never rejects
   * (failures go to the logger).
   */
  shutdown(): Promise<void>;
}

/**
 * Creates a MeterProvider that publishes where operators look: a Prometheus endpoint, or CloudWatch
 * embedded-metric-format lines on stdout. An exporter that fails (port in use, stdout closed) reports it
 * once and never stops the pipeline.
 *
 * @example
 * ```ts
 * const metrics = createMetricsExporter(parseMetricsFlag(process.env.METRICS ?? 'emf'));
 * const consumer = createConsumer({ ...options, meterProvider: metrics.meterProvider });
 * await consumer.run(processor);
 * await metrics.shutdown(); // the last EMF flush
 * ```
 * @throws `ConfigurationError` listing every problem with `options`.
 */
export function createMetricsExporter(options: MetricsExporterOptions): MetricsExporter {
  const config = resolveMetricsExporterConfig(options);
  const logger = config.logger ?? stderrLogger;
  return config.kind === 'prometheus' ? prometheus(config, logger) : emf(config, logger);
}

function prometheus(
  config: Extract<ResolvedMetricsExporterConfig, { kind: 'prometheus' }>,
  logger: MetricsLogger,
): MetricsExporter {
  const reader = new PrometheusExporter({ host: config.host, port: config.port, preventServerStart: true });
  const provider = new SdkMeterProvider({ readers: [reader] });
  const ready = reader.startServer().then(
    () => true,
    (error: unknown) => {
      logger.warn(
        `The Prometheus endpoint could not listen on ${config.host}:${config.port}; running without it.`,
        {
          error,
        },
      );
      return false;
    },
  );
  return {
    meterProvider: provider,
    description: `prometheus http://${config.host}:${config.port}/metrics`,
    ready,
    shutdown: memoizedShutdown(async () => {
      await ready;
      await provider.shutdown();
    }, logger),
  };
}

function emf(
  config: Extract<ResolvedMetricsExporterConfig, { kind: 'emf' }>,
  logger: MetricsLogger,
): MetricsExporter {
  const exporter = new EmfExporter({
    namespace: config.namespace,
    droppedAttributes: config.droppedAttributes,
    rollupDimensions: config.rollupDimensions,
    write: config.write ?? streamWriter(process.stdout, logger),
    now: config.now,
    logger,
  });
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: config.flushIntervalMs,
    exportTimeoutMillis: Math.min(30_000, config.flushIntervalMs),
  });
  const provider = new SdkMeterProvider({ readers: [reader] });
  return {
    meterProvider: provider,
    description: `emf namespace ${config.namespace} every ${config.flushIntervalMs / 1000} s`,
    ready: Promise.resolve(true),
    // The reader's shutdown collects and exports one last time.
    shutdown: memoizedShutdown(() => provider.shutdown(), logger),
  };
}

function memoizedShutdown(steps: () => Promise<void>, logger: MetricsLogger): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= steps().catch((error: unknown) =>
      logger.warn('Stopping the metrics exporter failed.', { error }),
    );
    return done;
  };
}

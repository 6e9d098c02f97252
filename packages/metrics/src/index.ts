// @shardline/metrics: Shardline's OpenTelemetry instruments published where operators look.

// Errors
export { ConfigurationError, type ConfigurationProblem } from '@shardline/common';
// Exporters
export { createMetricsExporter, type MetricsExporter } from './createMetricsExporter.js';
// Embedded metric format
export { EmfExporter, type EmfExporterSettings } from './emf/EmfExporter.js';
export { CloudWatchUnit, cloudWatchUnit } from './emf/emfUnit.js';
export {
  type CounterMemory,
  EMF_MAX_DIMENSIONS,
  EMF_MAX_METRICS_PER_DOCUMENT,
  type EmfDocument,
  type EmfFormatSettings,
  type EmfMetricDefinition,
  toEmfDocuments,
} from './emf/toEmfDocuments.js';
// Options
export {
  type EmfExporterOptions,
  METRICS_EXPORTER_DEFAULTS,
  MetricsExporterKind,
  type MetricsExporterOptions,
  type PrometheusExporterOptions,
  parseMetricsFlag,
  type ResolvedMetricsExporterConfig,
  resolveMetricsExporterConfig,
} from './MetricsExporterOptions.js';
export { type MetricsLogger, stderrLogger } from './MetricsLogger.js';
export { streamWriter } from './streamWriter.js';

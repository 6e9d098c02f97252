import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import {
  AggregationTemporality,
  InstrumentType,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { MetricsLogger } from '../MetricsLogger.js';
import { type CounterMemory, toEmfDocuments } from './toEmfDocuments.js';

/** Settings of an {@link EmfExporter}. */
export interface EmfExporterSettings {
  /** The CloudWatch namespace of every metric. */
  readonly namespace: string;
  /** Attributes that are not dimensions (see {@link toEmfDocuments}). */
  readonly droppedAttributes: ReadonlySet<string>;
  /** Dimensions of the rolled-up dimension set (see {@link toEmfDocuments}). */
  readonly rollupDimensions: ReadonlySet<string>;
  /** Writes one line (the newline included). Must not throw; a throw is reported and the flush dropped. */
  readonly write: (line: string) => void;
  /** Milliseconds since the epoch, for the documents' `Timestamp`. */
  readonly now: () => number;
  /** Where a failed write is reported. */
  readonly logger: MetricsLogger;
}

/**
 * An OpenTelemetry push exporter that writes embedded-metric-format documents, one JSON line each.
 * Histograms are collected as deltas (their min and max are then those of the flush period); counters
 * cumulatively, the increase being computed here so that an unchanged counter still emits 0.
 */
export class EmfExporter implements PushMetricExporter {
  readonly #settings: EmfExporterSettings;
  readonly #memory: CounterMemory = new Map();
  #isShutdown = false;

  constructor(settings: EmfExporterSettings) {
    this.#settings = settings;
  }

  /** Writes one collection as EMF lines; never throws (a failed write is reported and the flush lost). */
  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    if (this.#isShutdown) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('The EMF exporter was shut down.') });
      return;
    }
    try {
      const documents = toEmfDocuments(
        metrics,
        {
          namespace: this.#settings.namespace,
          timestampMs: this.#settings.now(),
          droppedAttributes: this.#settings.droppedAttributes,
          rollupDimensions: this.#settings.rollupDimensions,
        },
        this.#memory,
      );
      for (const document of documents) this.#settings.write(`${JSON.stringify(document)}\n`);
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      // A metrics exporter never stops the pipeline: report and go on.
      this.#settings.logger.warn('Writing EMF metrics failed; this flush is lost.', { error });
      resultCallback({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : undefined });
    }
  }

  /** Histograms as deltas (min and max of the period), everything else cumulative. */
  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return instrumentType === InstrumentType.HISTOGRAM
      ? AggregationTemporality.DELTA
      : AggregationTemporality.CUMULATIVE;
  }

  /** Nothing is buffered here: resolves at once. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** Later exports fail (the reader exports its last collection before calling this). */
  shutdown(): Promise<void> {
    this.#isShutdown = true;
    return Promise.resolve();
  }
}

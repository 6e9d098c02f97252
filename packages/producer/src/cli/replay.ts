import { createHash } from 'node:crypto';
import { appendFileSync, createReadStream, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ProducerOptions } from '../config/resolveProducerConfig.js';
import { InvalidRecordError, ProducerClosedError } from '../errors.js';
import { INGEST_LIMITS } from '../internal/ingest.js';
import { createProducer } from '../Producer.js';
import type { Transport } from '../transport/Transport.js';
import { DestinationFailingError, DestinationHealth, watchTransport } from './DestinationHealth.js';
import { Journal, type JournalError } from './Journal.js';
import { Pacer } from './Pacer.js';
import { Progress, type ProgressMode, type ReplayCounts } from './Progress.js';
import { type CsvReject, readCsv } from './readCsv.js';
import { RowMapper, RowMappingError, type RowMappingOptions, rowEventId } from './rowMapping.js';

/** Options of {@link replayCsv}. */
export interface ReplayOptions {
  readonly file: string;
  readonly transport: Transport;
  readonly mapping: RowMappingOptions;
  /** Producer tuning (transport and dead letters are set by the replay). */
  readonly producer?: Omit<ProducerOptions, 'transport' | 'deadLetter'>;
  readonly journalPath?: string;
  readonly rejectsPath: string;
  readonly deadLettersPath: string;
  readonly ratePerSecond?: number;
  readonly speed?: number;
  /** Stop after this many data rows. */
  readonly limitRows?: number;
  /** The source's identity in event ids. @defaultValue SHA-256 of the file's bytes */
  readonly sourceId?: string;
  readonly progress: ProgressMode;
  readonly progressIntervalMs?: number;
  /** Stops reading (then flushes and writes the journal). */
  readonly signal?: AbortSignal;
  /**
   * A CSV record's bytes at most: a longer one goes to the rejects file, unread.
   * @defaultValue 1048576 (the ingest API's and Kinesis's record limit)
   */
  readonly maxRecordBytes?: number;
  /**
   * When every request has failed for this long (no record written in between), the replay stops,
   * naming the cause. @defaultValue 60000
   */
  readonly maxFailingMs?: number;
  /** Check the destination (`Transport.check`) before reading the file. @defaultValue true */
  readonly checkDestination?: boolean;
  /** How long `close()` may wait for buffered records once the replay stops early. @defaultValue 10000 */
  readonly stopTimeoutMs?: number;
  /** Called before each journal write with (acked, journaled) rows; may hang or throw. For tests. */
  readonly beforeJournalWrite?: (ackedRows: number, journaledRows: number) => Promise<void> | void;
}

/** The outcome of a replay. */
export interface ReplaySummary extends ReplayCounts {
  readonly file: string;
  readonly sourceId: string;
  readonly elapsedMs: number;
  /** Whether every row of the file (up to the limit) is acknowledged, in this run or an earlier one. */
  readonly isComplete: boolean;
  readonly rejectsPath: string | undefined;
  readonly deadLettersPath: string | undefined;
  /**
   * Why the replay stopped before the end of the file, when it was not the signal: the journal could
   * not be written, or every request failed for `maxFailingMs`.
   */
  readonly failure: JournalError | DestinationFailingError | undefined;
}

/** SHA-256 of the file's bytes and its count of physical lines. */
export async function identifySource(path: string): Promise<{ sourceId: string; lines: number }> {
  const hash = createHash('sha256');
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) lines += 1;
    if (bytes.length > 0) last = bytes[bytes.length - 1]!;
  }
  if (last !== 0x0a) lines += 1;
  return { sourceId: hash.digest('hex'), lines };
}

/** The file's header (its column names). @throws CsvHeaderError */
async function readHeader(file: string, maxRecordBytes: number): Promise<readonly string[]> {
  let columns: readonly string[] | undefined;
  const items = readCsv(
    file,
    (names) => {
      columns = names;
    },
    maxRecordBytes,
  );
  try {
    while (columns === undefined) if ((await items.next()).done) break;
  } finally {
    await items.return(undefined);
  }
  return columns!;
}

/**
 * Replays a CSV file through a producer: one event per row with a deterministic event id, rejects to a
 * JSONL file with their physical line, acknowledged rows to the journal. Used by `shardline-produce replay`.
 *
 * @throws CsvHeaderError, RowMappingError (options do not match the header), JournalError (the journal
 * cannot be opened) or DestinationError (the destination check failed: nothing was sent).
 */
export async function replayCsv(options: ReplayOptions): Promise<ReplaySummary> {
  const startedAtMs = Date.now();
  const maxRecordBytes = options.maxRecordBytes ?? INGEST_LIMITS.maxRecordBytes;
  // Flags against the header first (a usage error), then the destination: both before any row is sent.
  new RowMapper(await readHeader(options.file, maxRecordBytes), options.mapping);
  if (options.checkDestination ?? true) {
    await options.transport.check?.(options.signal ?? new AbortController().signal);
  }
  const { sourceId: contentId, lines } = await identifySource(options.file);
  const sourceId = options.sourceId ?? contentId;
  const journal =
    options.journalPath === undefined
      ? undefined
      : await Journal.open(options.journalPath, sourceId, resolve(options.file));
  if (journal !== undefined) journal.beforeWrite = options.beforeJournalWrite;
  rmSync(options.rejectsPath, { force: true });

  // Stops reading: the caller's signal, a journal that cannot be written, a destination that fails.
  const stop = new AbortController();
  const onCallerAbort = () => stop.abort(options.signal?.reason);
  if (options.signal?.aborted) onCallerAbort();
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  let failure: JournalError | DestinationFailingError | undefined;
  const fail = (error: JournalError | DestinationFailingError) => {
    failure ??= error;
    stop.abort(error);
  };
  const writeJournal = () => {
    journal?.write().catch(fail);
  };

  const health = new DestinationHealth();
  const producer = createProducer({
    ...options.producer,
    transport: watchTransport(options.transport, health),
    deadLetter: { path: options.deadLettersPath },
  });
  // Stopping closes the producer at once, so that a read loop waiting for buffer room is released.
  const closeProducer = () =>
    producer.close(failure === undefined ? {} : { timeoutMs: options.stopTimeoutMs ?? 10_000 });
  stop.signal.addEventListener('abort', () => void closeProducer(), { once: true });
  const maxFailingMs = options.maxFailingMs ?? 60_000;
  const healthTimer = setInterval(
    () => {
      const failingMs = health.failingForMs();
      if (failingMs !== undefined && failingMs >= maxFailingMs) {
        fail(new DestinationFailingError(health.cause ?? 'unknown failure', failingMs));
      }
    },
    Math.min(1_000, Math.max(10, Math.floor(maxFailingMs / 4))),
  );
  const stats = { rows: 0, acked: 0, skipped: 0, rejected: 0, deadLettered: 0, retries: 0, throttles: 0 };
  producer.on('retry', (e) => {
    stats.retries += 1;
    if (e.isThrottle) stats.throttles += 1;
  });
  const progress = new Progress(
    options.progress,
    () => ({ ...stats, estimatedRows: Math.max(0, lines - 1), waitingFor: health.waitingFor() }),
    options.progressIntervalMs,
  );
  const journalTimer = setInterval(writeJournal, 200);
  const reject = (item: Pick<CsvReject, 'rowNumber' | 'line' | 'endLine' | 'reason' | 'raw'>) => {
    stats.rejected += 1;
    appendFileSync(
      options.rejectsPath,
      `${JSON.stringify({ line: item.line, endLine: item.endLine, row: item.rowNumber, reason: item.reason, raw: item.raw })}\n`,
    );
  };

  const pacer = new Pacer({ ratePerSecond: options.ratePerSecond, speed: options.speed });
  let mapper: RowMapper | undefined;
  const deliveries = new Set<Promise<void>>();
  progress.start();
  try {
    for await (const item of readCsv(
      options.file,
      (columns) => {
        mapper = new RowMapper(columns, options.mapping);
      },
      maxRecordBytes,
    )) {
      if (stop.signal.aborted) break;
      if (options.limitRows !== undefined && item.rowNumber > options.limitRows) break;
      stats.rows += 1;
      if (item.kind === 'reject') {
        reject(item);
        continue;
      }
      if (journal?.acked.has(item.rowNumber)) {
        stats.skipped += 1;
        continue;
      }
      let mapped: ReturnType<RowMapper['map']>;
      try {
        mapped = mapper!.map(item.values);
      } catch (error) {
        if (!(error instanceof RowMappingError)) throw error;
        reject({
          rowNumber: item.rowNumber,
          line: item.line,
          endLine: item.line,
          reason: error.message,
          raw: item.values.join(','),
        });
        continue;
      }
      try {
        await pacer.wait(mapped.eventTimeMs, stop.signal);
      } catch {
        break; // aborted while pacing
      }
      const rowNumber = item.rowNumber;
      let result: Promise<unknown>;
      try {
        ({ result } = await producer.enqueue(mapped.event, {
          eventId: rowEventId(sourceId, rowNumber),
          partitionKey: mapped.partitionKey,
        }));
      } catch (error) {
        if (error instanceof ProducerClosedError && stop.signal.aborted) break;
        if (!(error instanceof InvalidRecordError)) throw error;
        // E.g. an event over the record limit once its fields are JSON-escaped.
        reject({
          rowNumber,
          line: item.line,
          endLine: item.line,
          reason: error.message,
          raw: item.values.join(','),
        });
        continue;
      }
      const delivery: Promise<void> = result.then(
        () => {
          stats.acked += 1;
          journal?.ack(rowNumber);
          if ((journal?.unwrittenRows ?? 0) >= 1_000) writeJournal();
          deliveries.delete(delivery);
        },
        () => {
          stats.deadLettered += 1;
          deliveries.delete(delivery);
        },
      );
      deliveries.add(delivery);
    }
  } finally {
    // Stopped for a failure: what is buffered gets a short while, then goes to the dead letters (a rerun
    // with the journal sends those rows again, same event ids).
    await closeProducer();
    await Promise.all(deliveries);
    clearInterval(journalTimer);
    clearInterval(healthTimer);
    options.signal?.removeEventListener('abort', onCallerAbort);
    await journal?.close().catch(fail);
    progress.stop();
  }
  const isComplete =
    failure === undefined &&
    !options.signal?.aborted &&
    stats.rejected === 0 &&
    stats.deadLettered === 0 &&
    stats.acked + stats.skipped === stats.rows;
  return {
    file: options.file,
    sourceId,
    ...stats,
    elapsedMs: Date.now() - startedAtMs,
    isComplete,
    rejectsPath: stats.rejected > 0 ? options.rejectsPath : undefined,
    deadLettersPath: stats.deadLettered > 0 ? options.deadLettersPath : undefined,
    failure,
  };
}

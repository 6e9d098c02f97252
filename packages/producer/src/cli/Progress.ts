import cliProgress from 'cli-progress';

/** The counts of a replay run: what the progress display shows and the summary reports. */
export interface ReplayCounts {
  /** Data rows read in this run (sent, skipped and rejected). */
  readonly rows: number;
  /** Rows acknowledged in this run. */
  readonly acked: number;
  /** Rows skipped because the journal had them. */
  readonly skipped: number;
  /** Rows that could not be mapped to an event (written to the rejects file). */
  readonly rejected: number;
  /** Events the producer gave up on (written to the dead-letter file). */
  readonly deadLettered: number;
  readonly retries: number;
  readonly throttles: number;
}

/** What the progress display shows. */
export interface ProgressStats extends ReplayCounts {
  /** Estimated rows in the file (physical lines less the header). */
  readonly estimatedRows: number;
  /** Why records are being retried, while requests fail (e.g. `connection refused (127.0.0.1:4599)`). */
  readonly waitingFor?: string | undefined;
}

/** How progress is shown. */
export const ProgressMode = { Bar: 'bar', Lines: 'lines', None: 'none' } as const;
/** See {@link ProgressMode}. */
export type ProgressMode = (typeof ProgressMode)[keyof typeof ProgressMode];

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

/** A progress bar on a terminal (cli-progress), plain lines every `intervalMs` otherwise. Writes to stderr. */
export class Progress {
  readonly #mode: ProgressMode;
  readonly #intervalMs: number;
  readonly #stats: () => ProgressStats;
  readonly #startedAtMs = Date.now();
  #bar: cliProgress.SingleBar | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(mode: ProgressMode, stats: () => ProgressStats, intervalMs = 5_000) {
    this.#mode = mode;
    this.#stats = stats;
    this.#intervalMs = mode === ProgressMode.Bar ? 200 : intervalMs;
  }

  #figures() {
    const s = this.#stats();
    const elapsedS = Math.max(0.001, (Date.now() - this.#startedAtMs) / 1000);
    const done = s.acked + s.skipped + s.rejected + s.deadLettered;
    const rate = s.acked / elapsedS;
    const remaining = Math.max(0, s.estimatedRows - done);
    return { s, done, rate, eta: rate > 0 ? remaining / rate : Number.POSITIVE_INFINITY };
  }

  start(): void {
    if (this.#mode === ProgressMode.None) return;
    if (this.#mode === ProgressMode.Bar) {
      this.#bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format:
            '{bar} {percentage}% | {value}/{total} rows | {rate}/s | ETA {etaText} | retries {retries} | rejects {rejects}{waiting}',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(Math.max(1, this.#stats().estimatedRows), 0, {
        rate: 0,
        etaText: '?',
        retries: 0,
        rejects: 0,
        waiting: '',
      });
    }
    this.#timer = setInterval(() => this.tick(), this.#intervalMs);
    this.#timer.unref();
  }

  tick(): void {
    const { s, done, rate, eta } = this.#figures();
    if (this.#bar !== undefined) {
      if (done > this.#bar.getTotal()) this.#bar.setTotal(done);
      this.#bar.update(done, {
        rate: Math.round(rate),
        etaText: formatSeconds(eta),
        retries: s.retries,
        rejects: s.rejected,
        waiting: s.waitingFor === undefined ? '' : ` | retrying: ${s.waitingFor}`,
      });
    } else if (this.#mode === ProgressMode.Lines) {
      process.stderr.write(
        `progress rows=${done}/${s.estimatedRows} acked=${s.acked} skipped=${s.skipped} rate=${Math.round(rate)}/s eta=${formatSeconds(eta)} retries=${s.retries} throttles=${s.throttles} rejects=${s.rejected} dead-letters=${s.deadLettered}${s.waitingFor === undefined ? '' : ` retrying: ${s.waitingFor}`}\n`,
      );
    }
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#bar !== undefined) {
      this.tick();
      this.#bar.stop();
    }
  }
}

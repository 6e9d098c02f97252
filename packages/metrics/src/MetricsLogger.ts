/** Where an exporter reports its own failures (it never throws them into the pipeline). */
export interface MetricsLogger {
  /** Reports a failure of the exporter (`fields.error`: the cause). */
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** Warnings as one line on stderr (stdout may carry EMF lines). */
export const stderrLogger: MetricsLogger = {
  warn(message, fields) {
    const error = fields?.error;
    const detail = error instanceof Error ? `: ${error.message}` : '';
    process.stderr.write(`[shardline metrics] ${message}${detail}\n`);
  },
};

/** Structured context attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * Where the library writes what happens. Compatible with pino, bunyan, winston-style child loggers
 * through a thin adapter; every method is called with a message and optional fields.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/** Writes warnings and errors to `console.warn`/`console.error` with JSON fields; drops the rest. */
export const consoleWarningsLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (message, fields) => console.warn(`[shardline] ${message}${fields ? ` ${safeJson(fields)}` : ''}`),
  error: (message, fields) => console.error(`[shardline] ${message}${fields ? ` ${safeJson(fields)}` : ''}`),
};

function safeJson(fields: LogFields): string {
  try {
    return JSON.stringify(fields, (_key, value) =>
      value instanceof Error
        ? { name: value.name, message: value.message }
        : typeof value === 'bigint'
          ? String(value)
          : value,
    );
  } catch {
    return '{}';
  }
}

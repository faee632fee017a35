import type { LogFields, Logger } from '../../runtime/logger';

export interface LogEntry {
  readonly level: string;
  readonly message: string;
  readonly fields?: LogFields;
}

/** A logger that appends every line to `entries`, for tests that assert on what was logged. */
export function captureLogger(entries: LogEntry[]): Logger {
  const log = (level: string) => (message: string, fields?: LogFields) => {
    entries.push({ level, message, fields });
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** Matches a line at `level` whose message contains `message`, with exactly `fields`. */
export function logged(level: string, message: string, fields: LogFields): LogEntry {
  return expect.objectContaining({ level, message: expect.stringContaining(message), fields }) as LogEntry;
}

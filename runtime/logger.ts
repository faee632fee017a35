import type { LogLevel } from './contract';

const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

/**
 * Writes one JSON object per line to stdout, which Greengrass captures into the component's log file.
 * Callers pass counts, stream names and error codes; never payloads or credentials.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stdout.write(line),
): Logger {
  const threshold = SEVERITY[level];
  const log = (entryLevel: LogLevel, message: string, fields?: LogFields): void => {
    if (SEVERITY[entryLevel] < threshold) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: entryLevel, message, ...fields }) + '\n');
  };
  return {
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
  };
}

/** A logger that drops everything, for unit tests that do not assert on logs. */
export const silentLogger: Logger = createLogger('error', () => undefined);

/** The name and message of an unknown thrown value, safe to log. */
export function describeError(error: unknown): { errorName: string; errorMessage: string } {
  if (error instanceof Error) return { errorName: error.name, errorMessage: error.message };
  return { errorName: 'Error', errorMessage: String(error) };
}

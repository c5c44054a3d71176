// One pino root logger; every component takes a child with its own bindings
// ({session, account, connector, msgId}). Per-message lines are debug only.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** The root logger: JSON lines on stdout, or on `destination` (the load tool keeps stdout for its result). */
export function createLogger(options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const settings: LoggerOptions = {
    base: { app: 'smppgw' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Never let a credential reach a log line, whichever object carries it.
    redact: { paths: ['password', '*.password', '*.*.password', '*.*.*.password', 'pdu.password'], censor: '[redacted]' },
    hooks: { streamWrite: escapeLogLine },
    ...options,
    // SMPPGW_LOG_LEVEL wins over the config, so an operator can turn on debug without editing it.
    level: process.env.SMPPGW_LOG_LEVEL ?? options.level ?? 'info',
  };
  return destination ? pino(settings, destination) : pino(settings);
}

/**
 * JSON leaves C1 controls (U+0080–U+009F), DEL and the line/paragraph separators raw; a peer's
 * system_id or address carrying them would split a log line for some readers or drive a terminal.
 * Escaped as \uXXXX they read back as the same string.
 */
const UNSAFE = /[\u007f-\u009f\u2028\u2029]/g;
const escapeUnsafe = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

export function escapeLogLine(line: string): string {
  return line.replace(UNSAFE, escapeUnsafe);
}

/** A logger that writes nothing: the default for library use and tests. */
export const silentLogger: Logger = pino({ level: 'silent' });

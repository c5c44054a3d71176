// One pino root logger; every component takes a child with its own bindings
// ({session, account, connector, msgId}). Per-message lines are debug only.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({
    level: process.env.SMPPGW_LOG_LEVEL ?? options.level ?? 'info',
    base: { app: 'smppgw' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Never let a credential reach a log line, whichever object carries it.
    redact: { paths: ['password', '*.password', '*.*.password', 'pdu.password'], censor: '[redacted]' },
    ...options,
  });
}

/** A logger that writes nothing: the default for library use and tests. */
export const silentLogger: Logger = pino({ level: 'silent' });

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
    redact: { paths: ['password', '*.password', '*.*.password', 'pdu.password'], censor: '[redacted]' },
    ...options,
    // SMPPGW_LOG_LEVEL wins over the config, so an operator can turn on debug without editing it.
    level: process.env.SMPPGW_LOG_LEVEL ?? options.level ?? 'info',
  };
  return destination ? pino(settings, destination) : pino(settings);
}

/** A logger that writes nothing: the default for library use and tests. */
export const silentLogger: Logger = pino({ level: 'silent' });

// One pino root logger; every component takes a child with its own bindings
// ({session, account, connector, msgId}). Per-message lines are debug only.
// The gateway's lines go to stdout through LogSink: logging never blocks or stops the gateway,
// even when stdout is a full disk, a file past `ulimit -f` or a pipe nobody reads.
import { write, writeSync } from 'node:fs';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { ConfigError } from './errors.js';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

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
    level: envLogLevel() ?? options.level ?? 'info',
  };
  if (destination) return pino(settings, destination);
  const sink = stdoutSink();
  const log = pino(settings, sink);
  sink.onRecover = (dropped, error) => log.warn({ dropped, error }, 'log output works again; lines were dropped while it failed');
  return log;
}

/** SMPPGW_LOG_LEVEL when set; a value pino does not know is refused naming the variable (not pino's stack). */
export function envLogLevel(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const level = env.SMPPGW_LOG_LEVEL;
  if (level === undefined) return undefined;
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new ConfigError('log.level', `environment SMPPGW_LOG_LEVEL: ${JSON.stringify(level)} is not one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

/** Largest write handed to the kernel at once (as pino's own stdout writer). */
const CHUNK = 16 * 1024;
/** Lines waiting while the sink is slow or failing, at most (in characters); more are dropped. */
const MAX_BUFFERED = 1024 * 1024;
/** After a failed write (disk full, file too large, I/O error), the next try comes this much later. */
const RETRY_MS = 1_000;
/** A pipe that is full (EAGAIN) is tried again this much later. */
const BUSY_MS = 50;

/**
 * A pino destination on a file descriptor that never blocks the event loop and never loops on an
 * error (pino's own writer sleeps and retries for ever on EFBIG/ENOSPC at exit, holding the ports
 * and the database). One write at a time off the event loop; lines arriving meanwhile are joined
 * into chunks (strings, as pino's writer does: no allocation per line beyond pino's). While the
 * sink is slow, up to MAX_BUFFERED characters wait; beyond, lines are dropped and counted. A write
 * that fails drops what it carried and what waited (counted), and the sink is tried again every
 * RETRY_MS: once a write succeeds, output resumes with a line saying how many were dropped.
 */
export class LogSink implements DestinationStream {
  /** Lines dropped since start (smppgw_log_dropped_total). */
  dropped = 0;
  /** Told once output works again after a failure: lines dropped meanwhile, the error's code. */
  onRecover: ((dropped: number, error: string) => void) | undefined;
  private readonly chunks: string[] = [];
  private readonly chunkLines: number[] = [];
  private buffered = 0;
  /** The bytes in flight (one write at a time), their line count and size in characters. */
  private inFlight: Buffer | null = null;
  private inFlightLines = 0;
  private inFlightChars = 0;
  /** Part of a line reached the sink before it failed: the next output starts on a new line. */
  private midLine = false;
  private failure: { code: string; dropped: number } | null = null;
  private retry: NodeJS.Timeout | null = null;
  private readonly afterWrite = (err: NodeJS.ErrnoException | null, n: number) => this.written(err, n);
  private readonly resume = () => {
    this.retry = null;
    this.next();
  };

  constructor(
    private readonly fd: number,
    private readonly maxBuffered = MAX_BUFFERED,
  ) {}

  write(line: string): boolean {
    const n = line.length;
    if (this.buffered + n > this.maxBuffered) {
      this.drop(1);
      return false;
    }
    this.buffered += n;
    const last = this.chunks.length - 1;
    if (last >= 0 && this.chunks[last]!.length + n <= CHUNK) {
      this.chunks[last] += line;
      this.chunkLines[last]!++;
    } else {
      this.chunks.push(line);
      this.chunkLines.push(1);
    }
    if (this.inFlight === null && this.retry === null) this.next();
    return true;
  }

  /** At exit: what still waits, written synchronously once; an error drops it (never a retry loop). */
  flushSync(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    if (this.failure) {
      this.discardWaiting();
      return;
    }
    // A write still in flight finishes (or not) in the thread pool; the rest follows it.
    for (let i = 0; i < this.chunks.length; i++) {
      let buf = Buffer.from(this.chunks[i]!);
      try {
        // Bounded: each pass writes at least one byte, or throws.
        for (let k = 0; k < 1_000 && buf.length > 0; k++) buf = buf.subarray(writeSync(this.fd, buf));
      } catch {
        this.drop(this.chunkLines.slice(i).reduce((a, b) => a + b, 0));
        break;
      }
    }
    this.chunks.length = 0;
    this.chunkLines.length = 0;
    this.buffered = 0;
  }

  private next(): void {
    const chunk = this.chunks.shift();
    if (chunk === undefined) return;
    this.inFlightLines = this.chunkLines.shift()!;
    this.inFlightChars = chunk.length;
    this.inFlight = Buffer.from(this.midLine ? `\n${chunk}` : chunk);
    write(this.fd, this.inFlight, 0, this.inFlight.length, null, this.afterWrite);
  }

  private written(err: NodeJS.ErrnoException | null, n: number): void {
    const buf = this.inFlight!;
    if (err) {
      if (err.code === 'EAGAIN' || err.code === 'EBUSY') {
        // A full pipe: the same bytes again shortly; meanwhile lines wait up to the bound.
        this.retry = setTimeout(() => {
          this.retry = null;
          write(this.fd, this.inFlight!, 0, this.inFlight!.length, null, this.afterWrite);
        }, BUSY_MS);
        this.retry.unref();
        return;
      }
      this.fail(err);
      return;
    }
    if (n < buf.length) {
      this.midLine = true;
      this.inFlight = buf.subarray(n);
      write(this.fd, this.inFlight, 0, this.inFlight.length, null, this.afterWrite);
      return;
    }
    this.midLine = false;
    this.inFlight = null;
    this.buffered -= this.inFlightChars;
    if (this.failure) {
      const { code, dropped } = this.failure;
      this.failure = null;
      this.onRecover?.(dropped, code);
    }
    this.next();
  }

  /** The sink refused the bytes: drop them and what waits, and try again later. */
  private fail(err: NodeJS.ErrnoException): void {
    const code = err.code ?? 'EIO';
    if (!this.failure) {
      this.failure = { code, dropped: 0 };
      // Once per failure, where an operator may still look; errors here are ignored too.
      write(2, `smppgw: log output failed (${err.message}); dropping log lines until it works again\n`, () => {});
    }
    this.inFlight = null;
    this.drop(this.inFlightLines);
    this.discardWaiting();
    this.retry = setTimeout(this.resume, RETRY_MS);
    this.retry.unref();
  }

  private discardWaiting(): void {
    this.drop(this.chunkLines.reduce((a, b) => a + b, 0));
    this.chunks.length = 0;
    this.chunkLines.length = 0;
    this.buffered = this.inFlight ? this.inFlightChars : 0;
  }

  private drop(lines: number): void {
    this.dropped += lines;
    if (this.failure) this.failure.dropped += lines;
  }
}

let stdout: LogSink | undefined;

/** The process's stdout sink (one per process: every root logger shares it and its count). */
export function stdoutSink(): LogSink {
  if (!stdout) {
    const sink = new LogSink(1);
    process.once('exit', () => sink.flushSync());
    stdout = sink;
  }
  return stdout;
}

/** Log lines dropped since start because the output could not take them. */
export function droppedLogLines(): number {
  return stdout?.dropped ?? 0;
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

// Connects to an SMSC (plain TCP or TLS 1.2+), binds, and keeps the bind up: a lost connection
// or a refused bind is retried with exponential backoff and jitter until close().
import net from 'node:net';
import tls from 'node:tls';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { SessionClosedError } from './errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { Bodies } from './pdu.js';
import type { SessionDefaults } from './server.js';
import { Session, type SessionHandlers } from './session.js';
import type { BindCommand } from './states.js';

export interface ClientTlsOptions {
  /** CAs to verify the SMSC's certificate against (default: the system's). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Our client certificate and key, when the SMSC asks for one. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Verify the SMSC's certificate (default true). */
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** 0..1: each delay is scaled by a random factor in [1 - jitter, 1 + jitter]. */
  jitter?: number;
}

export interface ClientOptions {
  host: string;
  port: number;
  tls?: ClientTlsOptions;
  bind: { command: BindCommand } & Partial<Bodies[BindCommand]>;
  /** Requests the SMSC sends us (deliver_sm, data_sm, …) and state changes. */
  handlers?: Omit<SessionHandlers, 'bind' | 'close'>;
  /** Told when a bind is up, and when it is lost (with the reason). */
  onBound?(session: Session): void;
  onUnbound?(reason: string): void;
  session?: SessionDefaults;
  backoff?: BackoffOptions;
  /** A connection attempt that takes longer fails (default 10 s). */
  connectTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Source of randomness for jitter (tests pass a fixed one). */
  random?: () => number;
}

/** The delay before reconnect attempt `attempt` (0-based). */
export function backoffDelay(attempt: number, o: BackoffOptions = {}, random = Math.random): number {
  const initial = o.initialMs ?? 500;
  const max = o.maxMs ?? 30_000;
  const factor = o.factor ?? 2;
  const jitter = o.jitter ?? 0.2;
  const base = Math.min(max, initial * factor ** attempt);
  return Math.round(base * (1 - jitter + 2 * jitter * random()));
}

export class SmppClient {
  private current: Session | undefined;
  private attempt = 0;
  private stopped = true;
  /** close() was called (start() clears it). */
  private closed = false;
  private retryTimer: TimerHandle | undefined;
  private boundWaiters: Array<{ resolve(s: Session): void; reject(err: Error): void }> = [];
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly options: ClientOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = (options.logger ?? silentLogger).child({ peer: `${options.host}:${options.port}` });
  }

  /** The bound session, if the bind is up. */
  get session(): Session | undefined {
    return this.current?.isBound ? this.current : undefined;
  }

  /** Starts connecting; keeps the bind up until close(). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.closed = false;
    this.connect();
  }

  /** Resolves with the session once bound (now, if it is); rejects with SessionClosedError on close(). */
  whenBound(): Promise<Session> {
    const s = this.session;
    if (s) return Promise.resolve(s);
    if (this.closed) return Promise.reject(new SessionClosedError('client closed'));
    return new Promise((resolve, reject) => this.boundWaiters.push({ resolve, reject }));
  }

  /** Stops reconnecting and closes the session in order (unbind, drain up to the deadline). */
  async close(deadlineMs = 5_000): Promise<void> {
    this.stopped = true;
    this.closed = true;
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const err = new SessionClosedError('client closed');
    for (const w of this.boundWaiters.splice(0)) w.reject(err);
    await this.current?.close('client closing', deadlineMs);
  }

  private connect(): void {
    const { host, port } = this.options;
    const socket = this.options.tls
      ? tls.connect({ host, port, ...this.options.tls, servername: this.options.tls.servername ?? (net.isIP(host) ? undefined : host), minVersion: 'TLSv1.2' })
      : net.connect({ host, port });
    const readyEvent = this.options.tls ? 'secureConnect' : 'connect';
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    const connectTimer = this.clock.setTimeout(() => socket.destroy(new Error(`connect timeout after ${timeoutMs} ms`)), timeoutMs);
    const session = new Session(socket, {
      ...this.options.session,
      clock: this.options.session?.clock ?? this.clock,
      role: 'esme',
      logger: this.log,
      handlers: {
        ...this.options.handlers,
        close: (_s, reason) => this.onClose(session, reason),
      },
    });
    this.current = session;
    socket.once(readyEvent, () => {
      this.clock.clearTimeout(connectTimer);
      void this.bind(session);
    });
    socket.once('close', () => this.clock.clearTimeout(connectTimer));
  }

  private async bind(session: Session): Promise<void> {
    const { command, ...body } = this.options.bind;
    try {
      await session.bind(command, body);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, attempt: this.attempt }, 'bind failed');
      session.destroy(`bind failed: ${(err as Error).message}`);
      return;
    }
    this.attempt = 0;
    this.log.info({ command, systemId: body.system_id }, 'bound');
    for (const w of this.boundWaiters.splice(0)) w.resolve(session);
    try {
      this.options.onBound?.(session);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'onBound handler threw');
    }
  }

  private onClose(session: Session, reason: string): void {
    const wasBound = session === this.current && session.systemId !== '';
    if (session === this.current) this.current = undefined;
    if (wasBound) {
      try {
        this.options.onUnbound?.(reason);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'onUnbound handler threw');
      }
    }
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt++, this.options.backoff, this.options.random);
    this.log.warn({ reason, retryInMs: delay, attempt: this.attempt }, 'connection lost; reconnecting');
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.connect();
    }, delay);
  }
}

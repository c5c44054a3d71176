// The load generator's bind slots: each opens a connection, binds (transceiver, transmitter or
// receiver), hands incoming deliver_sm to the run, and when the connection is lost binds again
// after a short delay, until reconnecting has taken longer than the connect timeout. A refused
// bind is not retried.
import net from 'node:net';
import type { Clock } from '../clock.js';
import { GatewayError } from '../errors.js';
import { BindError } from '../smpp/errors.js';
import type { Logger } from '../log.js';
import type { Pdu } from '../smpp/pdu.js';
import { Session } from '../smpp/session.js';
import type { BindCommand } from '../smpp/states.js';
import type { Opts } from './load-types.js';

/** Thrown (and not counted as an error) when the run is aborted or a bind closed while binding. */
export class Abort extends Error {}

/** What a bind slot needs from the run that owns it (the run loop in load.ts). */
export interface BindOwner {
  readonly opts: Opts;
  readonly clock: Clock;
  readonly log: Logger;
  readonly aborted: boolean;
  /** Waits `ms` on the clock (woken early by abort). */
  sleep(ms: number): Promise<void>;
  /** deliver_sm / data_sm from the SMSC. */
  onIncoming(pdu: Pdu): void;
}

/** One connection slot: binds, and binds again when the connection is lost. */
export class Bind {
  session: Session | undefined;
  reconnects = 0;
  private connecting: Promise<Session> | undefined;
  private everBound = false;
  private closed = false;

  constructor(
    readonly run: BindOwner,
    readonly command: BindCommand,
    readonly index: number,
  ) {}

  /** The bound session, binding first if need be; rejects when binding fails for good. */
  ready(): Promise<Session> {
    if (this.session?.isBound) return Promise.resolve(this.session);
    this.connecting ??= this.connectLoop().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    await this.session?.close('load run finished', 2_000);
  }

  private async connectLoop(): Promise<Session> {
    const { clock, opts } = this.run;
    const giveUpAt = clock.now() + opts.connectTimeoutMs;
    let lastErr: Error = new Error('not connected');
    for (let attempt = 0; ; attempt++) {
      if (this.closed || this.run.aborted) throw new Abort('aborted');
      if (attempt > 0 || this.everBound) {
        if (clock.now() >= giveUpAt) throw lastErr;
        await this.run.sleep(opts.reconnectDelayMs);
      }
      try {
        const s = await this.connectOnce(Math.max(1, giveUpAt - clock.now()));
        if (this.everBound) this.reconnects++;
        this.everBound = true;
        return s;
      } catch (err) {
        lastErr = err as Error;
        // A refused bind will be refused again: no point retrying it.
        if (err instanceof BindError) throw err;
        this.run.log.warn({ bind: this.index, err: lastErr.message }, 'connect/bind failed; retrying');
      }
    }
  }

  private connectOnce(timeoutMs: number): Promise<Session> {
    const { clock, opts } = this.run;
    return new Promise<Session>((resolve, reject) => {
      const socket = net.connect({ host: opts.host, port: opts.port });
      const session = new Session(socket, {
        role: 'esme',
        window: opts.window,
        responseTimeoutMs: opts.responseTimeoutMs,
        clock,
        logger: this.run.log,
        id: `load-${this.command.replace('bind_', '')}-${this.index}`,
        handlers: {
          request: (pdu) => this.run.onIncoming(pdu),
          close: (_s, reason) => {
            if (this.session !== session) return;
            this.session = undefined;
            this.run.log.info({ bind: this.index, reason }, 'connection lost; binding again');
            // Bind again at once: a receiver must be back for the receipts still to come.
            if (!this.closed && !this.run.aborted) void this.ready().catch(() => undefined);
          },
        },
      });
      const timer = clock.setTimeout(() => {
        session.destroy(`connect/bind timeout after ${timeoutMs} ms`);
        reject(new GatewayError('SMPP_CONNECT_TIMEOUT', `connect/bind to ${opts.host}:${opts.port} took over ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clock.clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        session.bind(this.command, { system_id: opts.systemId, password: opts.password, system_type: opts.systemType }).then(
          () => {
            clock.clearTimeout(timer);
            if (this.closed) {
              void session.close('load run finished', 2_000);
              reject(new Abort('closed while binding'));
              return;
            }
            this.session = session;
            this.run.log.info({ bind: this.index, command: this.command }, 'bound');
            resolve(session);
          },
          (err: Error) => {
            clock.clearTimeout(timer);
            session.destroy(`bind failed: ${err.message}`);
            reject(err);
          },
        );
      });
    });
  }
}

// Accepts SMPP connections (plain TCP or TLS 1.2+) and runs an SMSC-side session on each. Bind
// authentication and request handling are hooks the gateway supplies.
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../log.js';
import { Session, type SessionHandlers, type SessionOptions } from './session.js';

export interface ServerTlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  /** CAs that client certificates must chain to. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Ask for a client certificate. */
  requestCert?: boolean;
  /** Refuse clients without a valid certificate (with requestCert). */
  rejectUnauthorized?: boolean;
}

export type SessionDefaults = Omit<SessionOptions, 'role' | 'handlers' | 'logger' | 'id'>;

export interface ServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  tls?: ServerTlsOptions;
  /** Handlers for every session; each call names its session (per-connection state: `session.context`). */
  handlers: SessionHandlers;
  session?: SessionDefaults;
  /** Open connections at most; more are closed at once (default 10,000). */
  maxConnections?: number;
  /** Open sessions from one address at most; more are closed at once (default: no limit). */
  maxConnectionsPerIp?: number;
  /** Told of a connection closed at once (over the per-address limit). */
  onRefused?(reason: 'per_ip' | 'total', address: string): void;
  logger?: Logger;
}

export class SmppServer {
  readonly sessions = new Set<Session>();
  private readonly perIp = new Map<string, number>();
  /** Every open TCP connection, including TLS ones still in their handshake. */
  private readonly connections = new Set<net.Socket>();
  private readonly server: net.Server;
  private readonly log: Logger;

  constructor(private readonly options: ServerOptions) {
    this.log = (options.logger ?? silentLogger).child({ listener: options.tls ? 'smpp-tls' : 'smpp' });
    const onSocket = (socket: net.Socket) => this.accept(socket);
    if (options.tls) {
      this.server = tls.createServer({ ...options.tls, minVersion: 'TLSv1.2' }, onSocket);
      this.server.on('tlsClientError', (err) => this.log.warn({ err: err.message }, 'TLS handshake failed'));
    } else {
      this.server = net.createServer(onSocket);
    }
    this.server.maxConnections = options.maxConnections ?? 10_000;
    // Node closes connections past maxConnections itself; say so.
    this.server.on('drop', (data) => {
      this.log.warn({ remote: `${data?.remoteAddress}:${data?.remotePort}`, limit: this.server.maxConnections }, 'too many connections; closed');
      this.options.onRefused?.('total', data?.remoteAddress ?? '');
    });
    this.server.on('connection', (socket: net.Socket) => {
      this.connections.add(socket);
      socket.once('close', () => this.connections.delete(socket));
    });
    this.server.on('error', (err) => this.log.error({ err: err.message }, 'listener error'));
  }

  /** Starts listening; resolves with the address (the real port when 0 was asked). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host ?? '0.0.0.0', () => {
        this.server.off('error', onError);
        const addr = this.server.address() as AddressInfo;
        this.log.info({ host: addr.address, port: addr.port, tls: Boolean(this.options.tls) }, 'SMPP listener up');
        resolve(addr);
      });
    });
  }

  get address(): AddressInfo | undefined {
    return (this.server.address() as AddressInfo | null) ?? undefined;
  }

  /** Stops listening and closes every session (unbind, drain up to the deadline). */
  async close(deadlineMs = 5_000): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.sessions].map((s) => s.close('server shutting down', deadlineMs)));
    // Connections that never became a session (a TLS handshake under way) would hold close() up.
    for (const socket of this.connections) socket.destroy();
    await stopped;
  }

  private accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const ip = socket.remoteAddress ?? '';
    const open = this.perIp.get(ip) ?? 0;
    if (this.options.maxConnectionsPerIp !== undefined && open >= this.options.maxConnectionsPerIp) {
      this.log.warn({ remote, open, limit: this.options.maxConnectionsPerIp }, 'too many connections from this address; closed');
      this.options.onRefused?.('per_ip', ip);
      socket.destroy();
      return;
    }
    this.perIp.set(ip, open + 1);
    const session = new Session(socket, {
      ...this.options.session,
      role: 'smsc',
      logger: this.log.child({ remote }),
      handlers: this.options.handlers,
    });
    this.sessions.add(session);
    void session.whenClosed().then(() => {
      this.sessions.delete(session);
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n > 0) this.perIp.set(ip, n);
      else this.perIp.delete(ip);
    });
    this.log.debug({ remote, session: session.id }, 'connection accepted');
  }
}

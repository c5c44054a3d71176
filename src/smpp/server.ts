// Accepts SMPP connections (plain TCP or TLS 1.2+) and runs an SMSC-side session on each. Bind
// authentication and request handling are hooks the gateway supplies. The connection caps (total,
// per address) count TCP connections as they arrive, so a TLS connection still in its handshake
// holds a place like any other, and the handshake has its own deadline.
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../log.js';
import { Session, type SessionHandlers, type SessionOptions } from './session.js';
import { INTERMEDIATE_CIPHERS } from './tls-profile.js';

export interface ServerTlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  /** CAs that client certificates must chain to. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Ask for a client certificate. */
  requestCert?: boolean;
  /** Refuse clients without a valid certificate (with requestCert). */
  rejectUnauthorized?: boolean;
  /** OpenSSL cipher list, TLS 1.3 suites included (default: Mozilla "intermediate"). */
  ciphers?: string;
  /** A connection whose handshake has not finished after this long is closed (default 10 s). */
  handshakeTimeoutMs?: number;
}

/** Addresses named in one summary line of failed handshakes. */
const HANDSHAKE_LOG_PEERS = 10;

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
  /** Open connections from one address at most, TLS handshakes included; more are closed at once (default: no limit). */
  maxConnectionsPerIp?: number;
  /** Told of a connection closed at once (over the per-address limit). */
  onRefused?(reason: 'per_ip' | 'total', address: string): void;
  logger?: Logger;
  /** Failed TLS handshakes are logged at most once per this interval, the first at once (default 10 s). */
  handshakeLogMs?: number;
}

export class SmppServer {
  readonly sessions = new Set<Session>();
  private readonly perIp = new Map<string, number>();
  /** Every open TCP connection, including TLS ones still in their handshake. */
  private readonly connections = new Set<net.Socket>();
  private readonly server: net.Server;
  private readonly log: Logger;
  /**
   * TLS connections still in their handshake, by remote address:port: the hard deadline (Node's
   * handshakeTimeout is an idle timer a trickling client resets) and why it failed, if TLS said.
   */
  private readonly handshaking = new Map<string, { deadline: NodeJS.Timeout; why?: string }>();
  private closing = false;
  /** Failed handshakes since the last log line, and a few of their peers. */
  private handshakeFailures = { count: 0, peers: new Set<string>(), reason: '', timer: undefined as NodeJS.Timeout | undefined };

  constructor(private readonly options: ServerOptions) {
    this.log = (options.logger ?? silentLogger).child({ listener: options.tls ? 'smpp-tls' : 'smpp' });
    const onSocket = (socket: net.Socket) => this.accept(socket);
    if (options.tls) {
      const { handshakeTimeoutMs, ciphers, ...tlsOptions } = options.tls;
      this.server = tls.createServer(
        {
          ...tlsOptions,
          minVersion: 'TLSv1.2',
          ciphers: ciphers ?? INTERMEDIATE_CIPHERS,
          // Mozilla intermediate: the client's order (it knows whether it has AES hardware).
          honorCipherOrder: false,
          // Node's is an idle timer (a trickling client resets it): ours, in admit(), is the deadline.
          handshakeTimeout: (handshakeTimeoutMs ?? 10_000) + 1_000,
        },
        onSocket,
      );
      this.server.on('tlsClientError', (err, socket) => this.handshakeFailed(err, socket));
    } else {
      this.server = net.createServer(onSocket);
    }
    // Every TCP connection passes the per-address cap before anything else sees it: Node's own
    // listeners (the TLS wrapping, or onSocket) are taken off and called only for admitted ones, so
    // a refused connection costs no TLS state, and a TLS handshake holds its place like a session.
    const inner = this.server.listeners('connection') as Array<(socket: net.Socket) => void>;
    this.server.removeAllListeners('connection');
    this.server.on('connection', (socket: net.Socket) => {
      if (this.admit(socket)) for (const fn of inner) fn.call(this.server, socket);
    });
    this.server.maxConnections = options.maxConnections ?? 10_000;
    // Node closes connections past maxConnections itself; say so.
    this.server.on('drop', (data) => {
      this.log.warn({ remote: `${data?.remoteAddress}:${data?.remotePort}`, limit: this.server.maxConnections }, 'too many connections; closed');
      this.options.onRefused?.('total', data?.remoteAddress ?? '');
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
    this.closing = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    clearTimeout(this.handshakeFailures.timer);
    for (const h of this.handshaking.values()) clearTimeout(h.deadline);
    await Promise.all([...this.sessions].map((s) => s.close('server shutting down', deadlineMs)));
    // Connections that never became a session (a TLS handshake under way) would hold close() up.
    for (const socket of this.connections) socket.destroy();
    await stopped;
  }

  /** Open TCP connections, TLS handshakes under way included (for the connection metric). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Counts a new TCP connection against the per-address cap (held until it closes); false: refused and closed. */
  private admit(socket: net.Socket): boolean {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const ip = socket.remoteAddress ?? '';
    const open = this.perIp.get(ip) ?? 0;
    if (this.options.maxConnectionsPerIp !== undefined && open >= this.options.maxConnectionsPerIp) {
      this.log.warn({ remote, open, limit: this.options.maxConnectionsPerIp }, 'too many connections from this address; closed');
      this.options.onRefused?.('per_ip', ip);
      socket.destroy();
      return false;
    }
    this.perIp.set(ip, open + 1);
    this.connections.add(socket);
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.options.tls) {
      const deadlineMs = this.options.tls.handshakeTimeoutMs ?? 10_000;
      const entry: { deadline: NodeJS.Timeout; why?: string } = {
        deadline: setTimeout(() => {
          entry.why = `no TLS session after ${deadlineMs} ms`;
          socket.destroy();
        }, deadlineMs).unref(),
      };
      this.handshaking.set(key, entry);
    }
    const port = socket.remotePort;
    socket.once('close', () => {
      const handshake = this.handshaking.get(key);
      if (handshake && !this.closing) {
        // Closed before it became a session: a failed handshake, told once here, where the peer is
        // still known (TLS's own error may come just after the close, or without the address).
        clearTimeout(handshake.deadline);
        setImmediate(() => {
          this.handshaking.delete(key);
          this.noteHandshakeFailure(handshake.why ?? 'connection closed during the TLS handshake', ip, port);
        });
      }
      this.connections.delete(socket);
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n > 0) this.perIp.set(ip, n);
      else this.perIp.delete(ip);
    });
    return true;
  }

  /** A failed handshake: the first of an interval is logged at once with its peer, the rest as one line with a count. */
  private handshakeFailed(err: Error, socket: tls.TLSSocket): void {
    // Logged when its TCP connection closes (admit); the reason is kept for that line when the
    // address is still known. The deadline's reason stays first.
    const entry = this.handshaking.get(`${socket.remoteAddress}:${socket.remotePort}`);
    if (entry) entry.why ??= err.message;
    // With a tlsClientError listener Node leaves the socket open (a handshake timeout included).
    socket.destroy();
  }

  private noteHandshakeFailure(why: string, peer: string, port: number | undefined): void {
    const f = this.handshakeFailures;
    const intervalMs = this.options.handshakeLogMs ?? 10_000;
    if (f.timer === undefined) {
      this.log.warn({ remote: `${peer}:${port}`, err: why }, 'TLS handshake failed');
      const flush = () => {
        if (f.count === 0) {
          f.timer = undefined;
          return;
        }
        this.log.warn({ failed: f.count, peers: [...f.peers], lastErr: f.reason, intervalMs }, 'TLS handshakes failed');
        f.count = 0;
        f.peers.clear();
        f.timer = setTimeout(flush, intervalMs).unref();
      };
      f.timer = setTimeout(flush, intervalMs).unref();
      return;
    }
    f.count++;
    f.reason = why;
    if (f.peers.size < HANDSHAKE_LOG_PEERS) f.peers.add(peer);
  }

  private accept(socket: net.Socket): void {
    if (socket.destroyed) return; // closed during its handshake
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    clearTimeout(this.handshaking.get(remote)?.deadline);
    this.handshaking.delete(remote);
    const session = new Session(socket, {
      ...this.options.session,
      role: 'smsc',
      logger: this.log.child({ remote }),
      handlers: this.options.handlers,
    });
    this.sessions.add(session);
    void session.whenClosed().then(() => this.sessions.delete(session));
    this.log.debug({ remote, session: session.id }, 'connection accepted');
  }
}

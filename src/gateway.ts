// Composition root: builds every part from the config, starts them in order (failing fast), and
// stops them in reverse.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { Metrics, MetricsServer } from './metrics.js';
import { Status, statusName } from './smpp/defs.js';
import { SmppServer, type SessionDefaults } from './smpp/server.js';
import type { BindPdu, ResponseInit, Session, SessionHandlers } from './smpp/session.js';

/** Decides ESME binds. The account store supplies the real one. */
export interface Authenticator {
  authenticate(bind: BindPdu, session: Session): Promise<ResponseInit> | ResponseInit;
}

/** With no account store every bind is refused: there is no one to let in. */
export const refuseAll: Authenticator = {
  authenticate: () => ({ command_status: Status.ESME_RINVSYSID! }),
};

export interface GatewayAddresses {
  smpp: AddressInfo;
  smppTls?: AddressInfo;
  http: AddressInfo;
}

export class Gateway {
  readonly metrics = new Metrics();
  private readonly listeners: SmppServer[] = [];
  private http: MetricsServer | undefined;
  private ready = false;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly auth: Authenticator = refuseAll,
  ) {}

  async start(): Promise<GatewayAddresses> {
    const { smpp } = this.config;
    const session: SessionDefaults = { ...smpp.session };
    const handlers = this.handlers();
    const plain = new SmppServer({ host: smpp.host, port: smpp.port, handlers, session, maxConnections: smpp.maxConnections, logger: this.log });
    this.listeners.push(plain);
    let tls: SmppServer | undefined;
    if (smpp.tls.enabled) {
      tls = new SmppServer({
        host: smpp.host,
        port: smpp.tls.port,
        handlers,
        session,
        maxConnections: smpp.maxConnections,
        logger: this.log,
        tls: {
          cert: readFileSync(smpp.tls.cert),
          key: readFileSync(smpp.tls.key),
          ...(smpp.tls.ca ? { ca: readFileSync(smpp.tls.ca) } : {}),
          requestCert: smpp.tls.requestCert,
          rejectUnauthorized: smpp.tls.requestCert,
        },
      });
      this.listeners.push(tls);
    }
    this.metrics.countConnections = () => ({ smpp: plain.sessions.size, ...(tls ? { 'smpp-tls': tls.sessions.size } : {}) });
    this.http = new MetricsServer(this.metrics, { alive: () => true, ready: () => this.ready }, this.log);
    const addresses: GatewayAddresses = {
      smpp: await plain.listen(),
      ...(tls ? { smppTls: await tls.listen() } : {}),
      http: await this.http.listen(this.config.http.host, this.config.http.port),
    };
    this.ready = true;
    this.log.info({ smpp: addresses.smpp.port, smppTls: addresses.smppTls?.port, http: addresses.http.port }, 'smppgw ready');
    return addresses;
  }

  /** Stops accepting, closes every session within the shutdown deadline, then the HTTP endpoint. */
  async stop(): Promise<void> {
    this.ready = false;
    await Promise.all(this.listeners.map((l) => l.close(this.config.shutdown.deadlineMs)));
    await this.http?.close();
    this.log.info('smppgw stopped');
  }

  private handlers(): SessionHandlers {
    const { metrics, log } = this;
    const boundAs = new WeakMap<Session, string>();
    return {
      bind: async (pdu, session) => {
        const init = await this.auth.authenticate(pdu, session);
        const status = init.command_status ?? 0;
        metrics.bindAttempts.inc({ result: status === 0 ? 'ok' : statusName(status) });
        if (status !== 0) log.warn({ systemId: pdu.system_id, status: statusName(status), session: session.id }, 'bind refused');
        return { system_id: 'smppgw', ...init };
      },
      state: (session, state) => {
        const counted = boundAs.get(session);
        if (state.startsWith('bound_')) {
          const bind = state.slice('bound_'.length);
          boundAs.set(session, bind);
          metrics.binds.inc({ bind });
        } else if (counted !== undefined) {
          boundAs.delete(session);
          metrics.binds.dec({ bind: counted });
        }
      },
    };
  }
}

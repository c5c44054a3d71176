// Composition root: builds every part from the config, starts them in order (failing fast), and
// stops them in reverse. The only file that knows all the rooms.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { MessageState } from './dlr/receipt.js';
import { ReceiptService } from './dlr/service.js';
import { SmppError } from './errors.js';
import { EsmeAuth, esmeContext } from './esme/auth.js';
import { BindLockout } from './esme/lockout.js';
import { ManageHandler } from './esme/manage.js';
import { OutboxDelivery } from './esme/outbox-delivery.js';
import { BindRegistry } from './esme/registry.js';
import { SubmitHandler } from './esme/submit.js';
import type { Logger } from './log.js';
import { Metrics, MetricsServer } from './metrics.js';
import { MoRouter } from './routing/mo.js';
import { MtRouter } from './routing/mt.js';
import { Status, statusName } from './smpp/defs.js';
import { SmppServer, type SessionDefaults } from './smpp/server.js';
import type { Session, SessionHandlers } from './smpp/session.js';
import { ConnectorLink } from './smsc/connector.js';
import { Dispatcher } from './smsc/dispatcher.js';
import { Inbound } from './smsc/inbound.js';
import { DEFAULT_RULES, ErrorRules, loadRuleFile } from './smsc/rules.js';
import { AccountStore } from './store/accounts.js';
import { ConnectorStore } from './store/connectors.js';
import { configVersion, type Db } from './store/db.js';
import { GroupCommit } from './store/group-commit.js';
import { Ledger } from './store/ledger.js';
import { openStore, type OpenedStore } from './store/open.js';
import { Outbox } from './store/outbox.js';
import { RouteStore } from './store/routes.js';

export interface GatewayAddresses {
  smpp: AddressInfo;
  smppTls?: AddressInfo;
  http: AddressInfo;
}

export class Gateway {
  readonly metrics = new Metrics();
  private readonly log: Logger;
  private readonly clock: Clock;
  private db!: Db;
  private store: OpenedStore | undefined;
  private commit!: GroupCommit;
  private readonly listeners: SmppServer[] = [];
  private http: MetricsServer | undefined;
  private dispatcher!: Dispatcher;
  private delivery!: OutboxDelivery;
  private registry!: BindRegistry;
  private auth!: EsmeAuth;
  private submits!: SubmitHandler;
  private manage!: ManageHandler;
  private mtRouter = new MtRouter([]);
  private moRouter = new MoRouter([]);
  private version = -1;
  private lockout!: BindLockout;
  private timers: NodeJS.Timeout[] = [];
  private ready = false;

  /** `initStore`: create an empty database even where traces of an earlier one are (`start --init`). */
  constructor(private config: Config, logger: Logger, clock: Clock = systemClock, private readonly options: { initStore?: boolean } = {}) {
    this.log = logger;
    this.clock = clock;
  }

  async start(): Promise<GatewayAddresses> {
    const { config, log, clock, metrics } = this;
    // `full`: every acknowledged write is on disk, but the WAL's fsync runs off the event loop
    // (GroupCommit), so SQLite itself runs NORMAL.
    const full = config.store.synchronous === 'full';
    // The lock first (one daemon per database), then the file: created only on a first start.
    this.store = openStore(config.store.path, { synchronous: 'normal', init: this.options.initStore ?? false, holder: { role: 'start', smppPort: config.smpp.port, httpPort: config.http.port } });
    this.db = this.store.db;
    if (this.store.setAside.length > 0) log.warn({ files: this.store.setAside }, 'traces of an earlier database kept aside (--init)');
    log.info({ path: this.store.path, created: this.store.created, synchronous: config.store.synchronous }, this.store.created ? 'store created' : 'store open');
    this.commit = new GroupCommit(this.db, full ? {
      walFile: `${this.store.path}-wal`, // beside the real file, as SQLite puts it
      onSyncError: (err) => {
        // After a failed fsync the page cache cannot be trusted; a restart recovers from the last durable commit.
        log.fatal({ err: err.message }, 'could not flush the database to disk; exiting');
        process.exit(70);
      },
    } : {});
    const ledger = new Ledger(this.db);
    const outbox = new Outbox(this.db);
    const connectors = new ConnectorStore(this.db);
    this.registry = new BindRegistry((account) => this.delivery.pump(account));
    const lockout = (this.lockout = new BindLockout(
      { failures: config.security.bindFailures, windowMs: config.security.bindFailureWindowMs, lockMs: config.security.lockoutMs },
      clock,
      (kind, value, until) => {
        metrics.lockouts.inc({ kind });
        log.warn({ kind, value, forMs: Math.round(until - clock.now()) }, 'locked out after repeated failed binds');
      },
    ));
    this.auth = new EsmeAuth(this.registry, log, lockout);
    this.delivery = new OutboxDelivery({ clock, commit: this.commit, outbox, registry: this.registry, metrics, logger: log, maxInMemory: config.messages.outboxPageSize });
    const receipts = new ReceiptService({
      commit: this.commit, ledger, outbox, metrics, logger: log, ttlMs: config.messages.outboxTtlMs,
      deliver: (items) => this.delivery.enqueue(items),
      idFormat: (account) => this.auth.account(account)?.idFormat ?? 'hex',
      idHint: (connector) => this.dispatcher.links.get(connector)?.settings.dlrId ?? 'auto',
    });
    const inbound = new Inbound({
      commit: this.commit, outbox, receipts, metrics, logger: log, ttlMs: config.messages.outboxTtlMs,
      maxPduSize: config.smpp.session.maxPduSize,
      router: () => this.moRouter, deliver: (items) => this.delivery.enqueue(items),
    });
    const { tlsCa, tlsCert, tlsKey } = config.smsc;
    const carrierTls = {
      ...(tlsCa ? { ca: readFileSync(tlsCa) } : {}),
      ...(tlsCert ? { cert: readFileSync(tlsCert), key: readFileSync(tlsKey) } : {}),
    };
    const sessionDefaults: SessionDefaults = { ...config.smpp.session };
    this.dispatcher = new Dispatcher({
      clock, logger: log, metrics, commit: this.commit, ledger, receipts,
      rules: errorRules(config),
      maxHeld: config.messages.maxInMemory,
      inbound: (pdu, connector) => inbound.handle(pdu, connector),
      link: (c, hooks) => new ConnectorLink({ config: c, hooks, clock, logger: log, session: sessionDefaults, tls: carrierTls }),
    });
    this.submits = new SubmitHandler({
      clock, commit: this.commit, ledger, dispatcher: this.dispatcher, metrics, logger: log,
      account: (id) => this.auth.account(id), router: () => this.mtRouter,
      defaultValidityMs: config.messages.defaultValidityMs, noRouteStatus: config.routing.noRouteStatus,
      maxPduSize: config.smpp.session.maxPduSize,
    });
    this.manage = new ManageHandler({
      ledger, commit: this.commit, dispatcher: this.dispatcher, account: (id) => this.auth.account(id), logger: log, maxPduSize: config.smpp.session.maxPduSize,
    });
    metrics.countQueues = () => Object.fromEntries([...this.dispatcher.links].map(([id, l]) => [id, l.queued]));
    metrics.countOutbox = () => this.delivery.countByAccount();

    this.reload(connectors);
    // Resume: messages accepted but not yet taken by a carrier, and undelivered receipts/MOs.
    const queued = this.dispatcher.resume();
    const waiting = this.delivery.resume();
    if (queued + waiting > 0) log.info({ messages: queued, outbox: waiting }, 'resumed queued work');

    const { smpp } = config;
    const handlers = this.esmeHandlers();
    const perIp = { maxConnectionsPerIp: config.security.maxConnectionsPerIp, onRefused: (reason: 'per_ip' | 'total') => metrics.connectionsRefused.inc({ reason }) };
    const plain = new SmppServer({ host: smpp.host, port: smpp.port, handlers, session: sessionDefaults, maxConnections: smpp.maxConnections, logger: log, ...perIp });
    this.listeners.push(plain);
    let tls: SmppServer | undefined;
    if (smpp.tls.enabled) {
      tls = new SmppServer({
        host: smpp.host, port: smpp.tls.port, handlers, session: sessionDefaults, maxConnections: smpp.maxConnections, logger: log, ...perIp,
        tls: {
          cert: readFileSync(smpp.tls.cert), key: readFileSync(smpp.tls.key), ...(smpp.tls.ca ? { ca: readFileSync(smpp.tls.ca) } : {}),
          requestCert: smpp.tls.requestCert, rejectUnauthorized: smpp.tls.requestCert,
        },
      });
      this.listeners.push(tls);
    }
    metrics.countConnections = () => ({ smpp: plain.sessions.size, ...(tls ? { 'smpp-tls': tls.sessions.size } : {}) });
    this.http = new MetricsServer(metrics, { alive: () => true, ready: () => this.ready, status: () => this.status() }, log);
    const addresses: GatewayAddresses = {
      smpp: await plain.listen(),
      ...(tls ? { smppTls: await tls.listen() } : {}),
      http: await this.http.listen(config.http.host, config.http.port),
    };
    this.store.lock.describe({ smppPort: addresses.smpp.port, httpPort: addresses.http.port });
    this.every(config.store.reloadMs, () => this.reload(connectors));
    this.every(config.messages.sweepMs, () => this.delivery.sweep());
    // Past its validity a message ends EXPIRED, with the receipt the account asked for: one still
    // queued (its connectors down), and one a carrier took but never sent a receipt for.
    this.every(config.messages.sweepMs, () => {
      const expired = this.dispatcher.expireQueued();
      if (expired > 0) log.info({ expired }, 'queued messages expired before a carrier took them');
      for (const record of ledger.unanswered(Date.now(), 1_000)) {
        receipts.recordFinal(record, MessageState.EXPIRED, null, null).catch((err: Error) => log.error({ err: err.message }, 'could not expire a message'));
      }
    });
    // Retention, in chunks with the event loop free between them; a receipt parked for an hour
    // will not find its message any more.
    this.every(60_000, () => {
      const cut = Date.now() - config.store.retentionHours * 3_600_000;
      let pruned = 0;
      const chunk = () => {
        let n = 0;
        try {
          n = this.ready ? ledger.prune(cut, 5_000, Date.now() - 3_600_000) : 0;
        } catch (err) {
          log.error({ err: (err as Error).message }, 'pruning failed; next try in a minute');
        }
        pruned += n;
        if (n === 5_000) setImmediate(chunk);
        else if (pruned > 0) log.info({ pruned }, 'pruned final messages past retention');
      };
      chunk();
    });
    this.ready = true;
    log.info({ smpp: addresses.smpp.port, smppTls: addresses.smppTls?.port, http: addresses.http.port }, 'smppgw ready');
    return addresses;
  }

  /** Stops accepting, lets in-flight work finish within the shutdown deadline, closes the store. */
  async stop(): Promise<void> {
    this.ready = false;
    for (const t of this.timers) clearInterval(t);
    const deadline = this.config.shutdown.deadlineMs;
    // One deadline for all of it: accounts' sessions and carrier links close side by side.
    await Promise.all([...this.listeners.map((l) => l.close(deadline)), this.dispatcher?.stop(deadline)]);
    this.delivery?.stop();
    await this.commit?.close();
    await this.http?.close();
    this.store?.close(); // the database, then its lock
    this.log.info('smppgw stopped');
  }

  /**
   * SIGHUP: takes the settings that can change while running (carrier error rules and retries, bind
   * lockouts, the shutdown deadline) and rereads the tables. Other changes (listeners, store,
   * sessions, log level, message TTLs) need a restart; which sections differ is logged.
   */
  reloadConfig(next: Config): void {
    const needRestart: string[] = (['smpp', 'http', 'store', 'log', 'messages', 'routing'] as const).filter((k) => JSON.stringify(next[k]) !== JSON.stringify(this.config[k]));
    // Read when links start.
    for (const k of ['tlsCa', 'tlsCert', 'tlsKey'] as const) if (next.smsc[k] !== this.config.smsc[k]) needRestart.push(`smsc.${k}`);
    this.dispatcher.rules = errorRules(next);
    this.lockout.policy = { failures: next.security.bindFailures, windowMs: next.security.bindFailureWindowMs, lockMs: next.security.lockoutMs };
    this.version = -1;
    this.reload(new ConnectorStore(this.db));
    this.config = { ...this.config, smsc: next.smsc, security: next.security, shutdown: next.shutdown };
    this.log.info({ applied: ['smsc', 'security', 'shutdown'], needRestart }, needRestart.length ? 'configuration reloaded; some changes need a restart' : 'configuration reloaded');
  }

  /** What `smppgw status` shows: binds, queues, rates. */
  status(): Record<string, unknown> {
    return {
      ready: this.ready,
      binds: this.registry.snapshot(),
      connectors: Object.fromEntries(
        [...this.dispatcher.links].map(([id, l]) => [id, { up: l.up, queued: l.queued, inFlight: l.inFlight, tps: l.settings.tps, window: l.settings.window }]),
      ),
      outbox: this.delivery.countByAccount(),
      outboxInMemory: this.delivery.size,
      messagesInMemory: this.dispatcher.heldCount,
      commits: this.commit.commits,
      writes: this.commit.writes,
      syncs: this.commit.syncs,
    };
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'periodic task failed');
      }
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  /** Takes account, connector and route changes made with the CLI, without dropping binds. */
  private reload(connectors: ConnectorStore): void {
    const v = configVersion(this.db);
    if (v === this.version) return;
    const first = this.version === -1;
    this.version = v;
    const accounts = new AccountStore(this.db).list();
    this.auth.load(accounts);
    this.submits.reload(accounts);
    const routes = new RouteStore(this.db);
    this.mtRouter = new MtRouter(routes.listMt());
    this.moRouter = new MoRouter(routes.listMo());
    this.dispatcher.reconcile(connectors.list());
    this.log.info({ version: v, accounts: accounts.length, connectors: this.dispatcher.links.size, mtRoutes: this.mtRouter.size }, first ? 'tables loaded' : 'tables reloaded');
  }

  private esmeHandlers(): SessionHandlers {
    const { metrics, log } = this;
    const boundAs = new WeakMap<Session, { account: string; bind: string }>();
    return {
      bind: async (pdu, session) => {
        const init = await this.auth.authenticate(pdu, session);
        const status = init.command_status ?? 0;
        metrics.bindAttempts.inc({ result: status === 0 ? 'ok' : statusName(status) });
        return { system_id: 'smppgw', ...init };
      },
      request: (pdu, session) => {
        switch (pdu.command) {
          case 'submit_sm':
            return this.submits.submit(pdu, session);
          case 'data_sm':
            return this.submits.dataSm(pdu, session);
          case 'submit_multi':
            return this.submits.submitMulti(pdu, session);
          case 'query_sm':
            return this.manage.query(pdu, session);
          case 'cancel_sm':
            return this.manage.cancel(pdu, session);
          case 'replace_sm':
            return this.manage.replace(pdu, session);
          default:
            log.debug({ command: pdu.command, session: session.id }, 'command not supported yet');
            throw new SmppError(Status.ESME_RINVCMDID!, `${pdu.command} is not supported`);
        }
      },
      state: (session, state) => {
        const counted = boundAs.get(session);
        const ctx = esmeContext(session);
        if (state.startsWith('bound_') && ctx) {
          const labels = { account: ctx.systemId, bind: state.slice('bound_'.length) };
          boundAs.set(session, labels);
          metrics.binds.inc(labels);
          this.registry.bound(ctx.systemId, session);
        } else if (counted !== undefined) {
          boundAs.delete(session);
          metrics.binds.dec(counted);
        }
      },
    };
  }
}

function errorRules(config: Config): ErrorRules {
  return new ErrorRules(config.smsc.rulesFile ? loadRuleFile(config.smsc.rulesFile) : DEFAULT_RULES, {
    maxAttempts: config.smsc.maxAttempts,
    baseDelayMs: config.smsc.retryBaseMs,
    maxDelayMs: config.smsc.retryMaxMs,
  });
}

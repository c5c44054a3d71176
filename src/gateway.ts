// Composition root: builds every part from the config, starts them in order (failing fast), and
// stops them in reverse. The only file that knows all the rooms.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { ReceiptService } from './dlr/service.js';
import { SmppError } from './errors.js';
import { EsmeAuth, esmeContext } from './esme/auth.js';
import { BindLockout, type LockoutPolicy } from './esme/lockout.js';
import { ManageHandler } from './esme/manage.js';
import { OutboxDelivery } from './esme/outbox-delivery.js';
import { BindRegistry } from './esme/registry.js';
import { SubmitHandler } from './esme/submit.js';
import type { MessageIds } from './messages/ids.js';
import { messageIdsFor } from './messages/ids-store.js';
import { Intake } from './messages/intake.js';
import type { Logger } from './log.js';
import { Housekeeping } from './housekeeping.js';
import { Metrics, MetricsServer, forgetSeries } from './metrics.js';
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
import { ConnectorStore, type Connector } from './store/connectors.js';
import { configVersion, type Db } from './store/db.js';
import { GroupCommit } from './store/group-commit.js';
import { StoreHealth, StoreUnavailableError } from './store/health.js';
import { Ledger } from './store/ledger.js';
import { openStore, type OpenedStore } from './store/open.js';
import { Outbox } from './store/outbox.js';
import { RouteStore } from './store/routes.js';
import { keyRingFor } from './store/secrets.js';
import { StoreWatch, rescueLost, type LostHow } from './store/watch.js';

/** What /status answers (and `smppgw status` shows). */
export interface GatewayStatus {
  ready: boolean;
  /** `ok`, or why the store refuses writes (full, busy, io, readonly, lost). */
  store: string;
  /** Bind states of each account's sessions, by system_id. */
  binds: Record<string, string[]>;
  connectors: Record<string, { up: boolean; queued: number; inFlight: number; tps: number; window: number }>;
  connectorsUnreadable?: string[];
  /** Receipts and MOs waiting, by system_id. */
  outbox: Record<string, number>;
  lockouts: Array<{ kind: string; address: string; systemId?: string; until: string }>;
  outboxInMemory: number;
  messagesInMemory: number;
  commits: number;
  writes: number;
  syncs: number;
  rates: { acceptedPerSecond: Record<string, number>; sentPerSecond: Record<string, number> };
}

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
  private health!: StoreHealth;
  private watch: StoreWatch | undefined;
  private probing = false;
  /** Where the rescue copy of a lost database was written. */
  private rescued: string | undefined;
  private readonly listeners: SmppServer[] = [];
  private http: MetricsServer | undefined;
  private dispatcher!: Dispatcher;
  private delivery!: OutboxDelivery;
  private registry!: BindRegistry;
  private auth!: EsmeAuth;
  private submits!: SubmitHandler;
  /** Where every message enters (the SMPP door, and the gateway itself). */
  intake!: Intake;
  /** The message ids accounts see. */
  ids!: MessageIds;
  private manage!: ManageHandler;
  private mtRouter = new MtRouter([]);
  private moRouter = new MoRouter([]);
  private version = -1;
  private lockout!: BindLockout;
  private housekeeping: Housekeeping | undefined;
  private connectors!: ConnectorStore;
  /** Connectors left down because their password cannot be opened: id → the problem (logged once). */
  private readonly unreadable = new Map<string, string>();
  /** Every connector in the table, enabled or not (a metric series each). */
  private configured = new Set<string>();
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
    // busy_timeout sleeps on the event loop (better-sqlite3 is synchronous): the daemon never waits
    // for another process's lock; GroupCommit retries a locked commit from a timer instead.
    this.db.pragma('busy_timeout = 0');
    this.health = new StoreHealth({
      logger: log,
      count: (reason) => metrics.storeErrors.inc({ reason }),
      countRetry: () => metrics.storeRetries.inc(),
      // Nothing goes to carriers or accounts whose outcome could not be recorded.
      onChange: (failing) => {
        this.dispatcher?.pauseSending(failing);
        this.delivery?.pauseSending(failing);
      },
    });
    this.commit = new GroupCommit(this.db, {
      health: this.health,
      ...(full ? {
        walFile: `${this.store.path}-wal`, // beside the real file, as SQLite puts it
        onSyncError: (err: Error) => {
          // After a failed fsync the page cache cannot be trusted; a restart recovers from the last durable commit.
          log.fatal({ err: err.message }, 'could not flush the database to disk; exiting');
          process.exit(70);
        },
      } : {}),
    });
    if (config.store.path !== ':memory:') {
      this.watch = new StoreWatch({
        path: this.store.path, logger: log,
        onLost: (how) => this.storeLost(how),
        onWalBytes: (bytes) => metrics.storeWalBytes.set(bytes),
        onTick: () => this.probeStore(),
      });
    }
    const ids = (this.ids = messageIdsFor(this.db, { node: config.cluster.node }));
    const ledger = new Ledger(this.db, { nextId: () => ids.next() });
    const outbox = new Outbox(this.db);
    const connectors = (this.connectors = new ConnectorStore(this.db, keyRingFor(config, {
      onCreate: (path) => log.warn({ path }, 'created the key that seals connector passwords; back it up apart from the database'),
    })));
    try {
      // Databases from before sealing: their plain passwords are sealed now (they bind either way).
      const { changed, keyId } = connectors.reseal(false);
      if (changed > 0) log.info({ connectors: changed, keyId }, 'sealed connector passwords stored in clear');
    } catch (err) {
      log.error({ err: (err as Error).message }, 'could not seal the connector passwords stored in clear; they stay as they are');
    }
    this.registry = new BindRegistry((account) => this.delivery.pump(account));
    const lockout = (this.lockout = new BindLockout(lockoutPolicy(config), clock, (lock) => {
      metrics.lockouts.inc({ kind: lock.kind });
      log.warn({ kind: lock.kind, remote: lock.address, systemId: lock.systemId, forMs: Math.round(lock.until - clock.now()) }, 'locked out after repeated failed binds');
    }));
    metrics.countLockouts = () => lockout.counts();
    this.auth = new EsmeAuth(this.registry, log, lockout);
    this.delivery = new OutboxDelivery({
      clock, commit: this.commit, outbox, registry: this.registry, metrics, logger: log, maxInMemory: config.messages.outboxPageSize,
      name: (id) => this.auth.name(id),
    });
    const receipts = new ReceiptService({
      commit: this.commit, ledger, outbox, metrics, logger: log, ttlMs: config.messages.outboxTtlMs,
      deliver: (items) => this.delivery.enqueue(items),
      account: (id) => this.auth.account(id),
      idHint: (connector) => this.dispatcher.links.get(connector)?.settings.dlrId ?? 'auto',
      formatId: (id, format) => ids.format(id, format),
    });
    const inbound = new Inbound({
      commit: this.commit, outbox, receipts, metrics, logger: log, ttlMs: config.messages.outboxTtlMs,
      maxPduSize: config.smpp.session.maxPduSize,
      router: () => this.moRouter, deliver: (items) => this.delivery.enqueue(items),
      accountId: (systemId) => this.auth.bySystemId(systemId)?.id,
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
      maxHeld: config.messages.maxInMemory, maxPriority: (id) => this.auth.account(id)?.maxPriority ?? 0,
      inbound: (pdu, connector) => inbound.handle(pdu, connector),
      link: (c, hooks) => new ConnectorLink({ config: c, hooks, clock, logger: log, session: sessionDefaults, tls: carrierTls }),
    });
    this.intake = new Intake({
      clock, commit: this.commit, ledger, carrier: this.dispatcher, metrics,
      account: (id) => this.auth.account(id), router: () => this.mtRouter,
      defaultValidityMs: config.messages.defaultValidityMs, maxPduSize: config.smpp.session.maxPduSize,
    });
    this.submits = new SubmitHandler({
      clock, intake: this.intake, metrics, account: (id) => this.auth.account(id),
      formatId: (id, format) => ids.format(id, format), noRouteStatus: config.routing.noRouteStatus,
    });
    this.manage = new ManageHandler({
      ledger, carrier: this.dispatcher, account: (id) => this.auth.account(id), ids, logger: log, maxPduSize: config.smpp.session.maxPduSize,
    });
    metrics.countQueues = () => Object.fromEntries([...this.dispatcher.links].map(([id, l]) => [id, l.queued]));
    metrics.oldestQueued = () => this.dispatcher.queueAges();
    // A series per live account (0 when nothing waits) and per configured connector (0 until bound).
    metrics.countOutbox = () => ({ ...Object.fromEntries(this.auth.live().map((a) => [a.systemId, 0])), ...this.delivery.countByAccount() });
    metrics.countConnectorsUp = () => Object.fromEntries([...this.configured].map((id) => [id, this.dispatcher.links.get(id)?.up ? 1 : 0]));

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
          ciphers: smpp.tls.ciphers, handshakeTimeoutMs: smpp.tls.handshakeTimeoutMs,
        },
      });
      this.listeners.push(tls);
    }
    metrics.countConnections = () => ({ smpp: plain.connectionCount, ...(tls ? { 'smpp-tls': tls.connectionCount } : {}) });
    this.http = new MetricsServer(metrics, {
      // Liveness: this answer itself shows the event loop turns (a probe's timeout is the bound);
      // the database handle must still read. Not the store's writability: that is readiness, and a
      // container killed for it would restart-loop exactly when it must hold its state.
      alive: () => this.storeReadable(),
      ready: () => this.accepting,
      notReadyReason: () => (this.health.reason ? `store ${this.health.reason}` : this.ready ? undefined : 'starting or stopping'),
      status: () => this.status(),
      lockouts: {
        list: (filter) => this.lockout.list(filter),
        clear: (filter) => {
          const cleared = this.lockout.clear(filter);
          log.info({ cleared, remote: filter.address, systemId: filter.systemId }, 'lockouts cleared by the operator');
          return cleared;
        },
      },
    }, log, config.http.token);
    const addresses: GatewayAddresses = {
      smpp: await plain.listen(),
      ...(tls ? { smppTls: await tls.listen() } : {}),
      http: await this.http.listen(config.http.host, config.http.port),
    };
    this.store.lock.describe({ smppPort: addresses.smpp.port, httpPort: addresses.http.port });
    this.housekeeping = new Housekeeping({
      config, logger: log, ledger, dispatcher: this.dispatcher, delivery: this.delivery, receipts, canWrite: () => this.accepting,
    });
    this.housekeeping.every(config.store.reloadMs, () => this.reload(connectors));
    this.housekeeping.start();
    this.watch?.start();
    this.ready = true;
    log.info({ smpp: addresses.smpp.port, smppTls: addresses.smppTls?.port, http: addresses.http.port }, 'smppgw ready');
    return addresses;
  }

  /** Stops accepting, lets in-flight work finish within the shutdown deadline, closes the store. */
  async stop(): Promise<void> {
    this.ready = false;
    this.watch?.stop();
    this.housekeeping?.stop();
    const deadline = this.config.shutdown.deadlineMs;
    // One deadline for all of it: accounts' sessions and carrier links close side by side.
    await Promise.all([...this.listeners.map((l) => l.close(deadline)), this.dispatcher?.stop(deadline)]);
    this.delivery?.stop();
    await this.commit?.close();
    await this.http?.close();
    this.store?.close(); // the database, then its lock
    if (this.rescued !== undefined) {
      const removed = this.watch?.removeStaleSidecars() ?? [];
      if (removed.length > 0) this.log.info({ removed }, 'removed the lost database\'s WAL files from its path');
    }
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
    this.lockout.policy = lockoutPolicy(next);
    this.version = -1;
    this.reload(this.connectors);
    this.config = { ...this.config, smsc: next.smsc, security: next.security, shutdown: next.shutdown };
    this.log.info({ applied: ['smsc', 'security', 'shutdown'], needRestart }, needRestart.length ? 'configuration reloaded; some changes need a restart' : 'configuration reloaded');
  }

  /**
   * The database path no longer names the file this process writes (deleted, or another file moved
   * over it): every commit from now on would vanish with the process. Refuse all writes (accounts
   * and carriers get "cannot store now" and retry later), send nothing more, answer /readyz 503,
   * and copy what the open connection still reads to a rescue file beside the path.
   *
   * The process then stays up, not ready, rather than exiting: exiting would let a supervisor
   * restart it on a new, empty database at the path and take traffic again while the messages it
   * acknowledged sit only in the rescue file (or, if the rescue could not be written, nowhere but
   * in this process's open connection, which it keeps retrying to copy). The operator stops it,
   * puts the rescued file in place, and starts it.
   */
  private storeLost(how: LostHow): void {
    this.health.lose(how);
    this.commit.refuse('lost');
    this.metrics.storeLost.set(1);
    rescueLost(this.db, this.config.store.path, how, this.log, (rescued) => (this.rescued = rescued));
  }

  /** A store refusing writes (not lost) is tried with a one-page write each watch tick, so readiness comes back without traffic. */
  private probeStore(): void {
    if (this.health.ok || this.health.lost || this.probing) return;
    this.probing = true;
    this.commit
      .run(() => this.db.pragma(`user_version = ${this.db.pragma('user_version', { simple: true }) as number}`))
      .catch((err: unknown) => {
        if (!(err instanceof StoreUnavailableError)) this.log.warn({ err: (err as Error).message }, 'store probe failed');
      })
      .finally(() => (this.probing = false));
  }

  /** What `smppgw status` shows: binds, queues, rates. */
  status(): GatewayStatus {
    return {
      ready: this.accepting,
      store: this.health.reason ?? 'ok',
      binds: this.registry.snapshot((id) => this.auth.name(id)),
      connectors: Object.fromEntries(
        [...this.dispatcher.links].map(([id, l]) => [id, { up: l.up, queued: l.queued, inFlight: l.inFlight, tps: l.settings.tps, window: l.settings.window }]),
      ),
      ...(this.unreadable.size ? { connectorsUnreadable: [...this.unreadable.keys()] } : {}),
      outbox: this.delivery.countByAccount(),
      // Bounded: an address guessing across many system_ids is locked as a whole.
      lockouts: this.lockout.list().slice(0, 100).map((l) => ({ ...l, until: new Date(l.until).toISOString() })),
      outboxInMemory: this.delivery.size,
      messagesInMemory: this.dispatcher.heldCount,
      commits: this.commit.commits,
      writes: this.commit.writes,
      syncs: this.commit.syncs,
      // Over the last ~10 s: messages accepted per account, sent (answered OK) per connector.
      rates: { acceptedPerSecond: this.metrics.accepted.rates(), sentPerSecond: this.metrics.sent.rates() },
    };
  }

  /** Ready: started, not stopping, and the store taking writes (readiness, status, bulk jobs). */
  private get accepting(): boolean {
    return this.ready && this.health.ok;
  }

  /** The database handle still answers a read (liveness). */
  private storeReadable(): boolean {
    try {
      return this.db.open && this.db.prepare('SELECT 1').pluck().get() === 1;
    } catch {
      return false;
    }
  }

  /** Takes account, connector and route changes made with the CLI, without dropping binds. */
  private reload(connectors: ConnectorStore): void {
    const v = configVersion(this.db);
    if (v === this.version) return;
    const first = this.version === -1;
    this.version = v;
    const accounts = new AccountStore(this.db).list();
    for (const id of this.auth.load(accounts)) {
      // Removed (or removed and re-created): nothing of the old account is sent or delivered any more.
      const dropped = this.dispatcher.forgetAccount(id);
      this.delivery.forget(id);
      void forgetSeries(this.metrics.registry, 'account', this.auth.name(id));
      this.metrics.accepted.forget(this.auth.name(id));
      this.log.info({ account: this.auth.name(id), accountId: id, droppedMessages: dropped }, 'account removed');
    }
    this.intake.reload(accounts);
    const routes = new RouteStore(this.db);
    this.mtRouter = new MtRouter(routes.listMt());
    this.moRouter = new MoRouter(routes.listMo());
    this.dispatcher.reconcile(this.readable(connectors));
    const configured = new Set(connectors.list().map((c) => c.id));
    for (const id of this.configured) {
      if (configured.has(id)) continue;
      void forgetSeries(this.metrics.registry, 'connector', id);
      this.metrics.sent.forget(id);
    }
    this.configured = configured;
    this.log.info({ version: v, accounts: accounts.length, connectors: this.dispatcher.links.size, mtRoutes: this.mtRouter.size }, first ? 'tables loaded' : 'tables reloaded');
  }

  /** The enabled connectors whose password opens; each one that does not is logged once and left down. */
  private readable(connectors: ConnectorStore): Connector[] {
    const { connectors: usable, unreadable } = connectors.withPasswords();
    const now = new Map(unreadable.map((u) => [u.id, `${u.updatedAt}:${u.error.message}`]));
    for (const u of unreadable) {
      if (this.unreadable.get(u.id) === now.get(u.id)) continue;
      this.log.error({ connector: u.id, code: u.error.code, err: u.error.message }, 'connector left down: its password cannot be opened');
    }
    this.unreadable.clear();
    for (const [id, problem] of now) this.unreadable.set(id, problem);
    return usable;
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
          this.registry.bound(ctx.accountId, session);
        } else if (counted !== undefined) {
          boundAs.delete(session);
          metrics.binds.dec(counted);
        }
      },
    };
  }
}

function lockoutPolicy(config: Config): LockoutPolicy {
  const s = config.security;
  return { failures: s.bindFailures, addressFailures: s.addressBindFailures, windowMs: s.bindFailureWindowMs, lockMs: s.lockoutMs };
}

function errorRules(config: Config): ErrorRules {
  return new ErrorRules(config.smsc.rulesFile ? loadRuleFile(config.smsc.rulesFile) : DEFAULT_RULES, {
    maxAttempts: config.smsc.maxAttempts,
    baseDelayMs: config.smsc.retryBaseMs,
    maxDelayMs: config.smsc.retryMaxMs,
    maxResends: config.smsc.maxResends,
    timeoutsBeforeRebind: config.smsc.timeoutsBeforeRebind,
  });
}

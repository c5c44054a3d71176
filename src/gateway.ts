// Composition root: builds every part from the config, starts them in order (failing fast), and
// stops them in reverse. The only file that knows all the rooms; it holds no behaviour of its own.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { ReceiptService } from './dlr/service.js';
import { EsmeAuth } from './esme/auth.js';
import { esmeHandlers } from './esme/handlers.js';
import { BindLockout, type LockoutPolicy } from './esme/lockout.js';
import { ManageHandler } from './esme/manage.js';
import { BindRegistry } from './esme/registry.js';
import { SmppReceivers } from './esme/smpp-receivers.js';
import { SubmitHandler } from './esme/submit.js';
import type { MessageIds } from './messages/ids.js';
import { messageIdsFor } from './messages/ids-store.js';
import { Intake } from './messages/intake.js';
import { OutboxDelivery } from './messages/outbox-delivery.js';
import type { Logger } from './log.js';
import { Housekeeping } from './housekeeping.js';
import { Metrics, MetricsServer } from './metrics.js';
import { SmppServer, type SessionDefaults } from './smpp/server.js';
import { ConnectorLink } from './smsc/connector.js';
import { Dispatcher } from './smsc/dispatcher.js';
import { Inbound } from './smsc/inbound.js';
import { DEFAULT_RULES, ErrorRules, loadRuleFile } from './smsc/rules.js';
import type { GatewayStatus } from './status.js';
import { ConnectorStore } from './store/connectors.js';
import { Ledger } from './store/ledger.js';
import { LiveStore } from './store/live.js';
import { Outbox } from './store/outbox.js';
import { keyRingFor } from './store/secrets.js';
import { emptyRouters, Tables } from './tables.js';

export type { GatewayStatus };

export interface GatewayAddresses {
  smpp: AddressInfo;
  smppTls?: AddressInfo;
  http: AddressInfo;
}

export interface GatewayOptions {
  clock?: Clock;
  /** Create an empty database even where traces of an earlier one are (`start --init`). */
  initStore?: boolean;
  /** The store cannot be trusted any more (a failed fsync): the process must end; the CLI exits 70. */
  onFatal?: (err: Error) => void;
}

/** Everything a started gateway runs. */
interface Parts {
  store: LiveStore;
  tables: Tables;
  auth: EsmeAuth;
  registry: BindRegistry;
  lockout: BindLockout;
  dispatcher: Dispatcher;
  delivery: OutboxDelivery;
  intake: Intake;
  ids: MessageIds;
  listeners: SmppServer[];
  http: MetricsServer;
  housekeeping: Housekeeping;
}

export class Gateway {
  readonly metrics = new Metrics();
  private readonly clock: Clock;
  private parts: Parts | undefined;
  private ready = false;

  constructor(
    private config: Config,
    private readonly log: Logger,
    private readonly options: GatewayOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  /** Where every message enters (the SMPP door, and the gateway itself). */
  get intake(): Intake {
    return this.started().intake;
  }

  /** The message ids accounts see. */
  get ids(): MessageIds {
    return this.started().ids;
  }

  async start(): Promise<GatewayAddresses> {
    const { config, log, clock, metrics } = this;
    // Late-bound: the store's health reaches the carrier side and the outbox, built after it.
    const late: { dispatcher?: Dispatcher; delivery?: OutboxDelivery } = {};
    const store = new LiveStore({
      config,
      logger: log,
      metrics,
      initStore: this.options.initStore ?? false,
      onWritable: (failing) => {
        late.dispatcher?.pauseSending(failing);
        late.delivery?.pauseSending(failing);
      },
      onFatal: this.options.onFatal ?? ((err) => log.fatal({ err: err.message }, 'could not flush the database to disk; stop the gateway and start it again')),
    });
    const { db, commit } = store;
    const ids = messageIdsFor(db, { node: config.cluster.node });
    const ledger = new Ledger(db, { nextId: () => ids.next() });
    const outbox = new Outbox(db);
    const connectors = new ConnectorStore(
      db,
      keyRingFor(config, {
        onCreate: (path) => log.warn({ path }, 'created the key that seals connector passwords; back it up apart from the database'),
      }),
    );
    try {
      // Databases from before sealing: their plain passwords are sealed now (they bind either way).
      const { changed, keyId } = connectors.reseal(false);
      if (changed > 0) log.info({ connectors: changed, keyId }, 'sealed connector passwords stored in clear');
    } catch (err) {
      log.error({ err: (err as Error).message }, 'could not seal the connector passwords stored in clear; they stay as they are');
    }
    // Late-bound: the receivers wake delivery when an account binds.
    const registry = new BindRegistry((account) => receivers.available(account));
    const lockout = new BindLockout(lockoutPolicy(config), clock, (lock) => {
      metrics.lockouts.inc({ kind: lock.kind });
      log.warn(
        { kind: lock.kind, remote: lock.address, systemId: lock.systemId, forMs: Math.round(lock.until - clock.now()) },
        'locked out after repeated failed binds',
      );
    });
    metrics.countLockouts = () => lockout.counts();
    const auth = new EsmeAuth(registry, log, lockout);
    const receivers = new SmppReceivers({
      registry,
      metrics,
      logger: log,
      name: (id) => auth.name(id),
      idFormat: (id) => auth.account(id)?.idFormat,
      formatId: (row, format) => ids.format(row, format),
      dc0: (id) => auth.account(id)?.dc0,
    });
    const delivery = (late.delivery = new OutboxDelivery({
      clock,
      commit,
      outbox,
      receivers,
      metrics,
      logger: log,
      maxInMemory: config.messages.outboxPageSize,
      name: (id) => auth.name(id),
    }));
    const receipts = new ReceiptService({
      commit,
      ledger,
      outbox,
      metrics,
      logger: log,
      ttlMs: config.messages.outboxTtlMs,
      deliver: (items) => delivery.enqueue(items),
      account: (id) => auth.account(id),
      receiptText: config.messages.receiptText,
      idHint: (connector) => late.dispatcher?.links.get(connector)?.settings.dlrId ?? 'auto',
    });
    const routers = emptyRouters();
    const inbound = new Inbound({
      commit,
      outbox,
      receipts,
      metrics,
      logger: log,
      ttlMs: config.messages.outboxTtlMs,
      maxPduSize: config.smpp.session.maxPduSize,
      router: () => routers.mo,
      deliver: (items) => delivery.enqueue(items),
      accountId: (systemId) => auth.bySystemId(systemId)?.id,
      dc0: {
        account: (id) => auth.account(id)?.dc0 ?? 'gsm',
        connector: (id) => late.dispatcher?.links.get(id)?.settings.dc0 ?? 'gsm',
      },
    });
    const { tlsCa, tlsCert, tlsKey } = config.smsc;
    const carrierTls = {
      ...(tlsCa ? { ca: readFileSync(tlsCa) } : {}),
      ...(tlsCert ? { cert: readFileSync(tlsCert), key: readFileSync(tlsKey) } : {}),
    };
    const sessionDefaults: SessionDefaults = { ...config.smpp.session };
    const dispatcher = (late.dispatcher = new Dispatcher({
      clock,
      logger: log,
      metrics,
      commit,
      ledger,
      receipts,
      rules: errorRules(config),
      maxHeld: config.messages.maxInMemory,
      maxPriority: (id) => auth.account(id)?.maxPriority ?? 0,
      accountName: (id) => auth.name(id),
      inbound: (pdu, connector) => inbound.handle(pdu, connector),
      link: (c, hooks) =>
        new ConnectorLink({
          config: c,
          hooks,
          clock,
          logger: log,
          session: sessionDefaults,
          tls: carrierTls,
          accountDc0: (id) => auth.account(id)?.dc0 ?? 'gsm',
          substituted: (connector, n) => metrics.textSubstituted.inc({ connector }, n),
        }),
    }));
    const intake = new Intake({
      clock,
      commit,
      ledger,
      carrier: dispatcher,
      metrics,
      account: (id) => auth.account(id),
      router: () => routers.mt,
      defaultValidityMs: config.messages.defaultValidityMs,
      maxPduSize: config.smpp.session.maxPduSize,
      joinTimeoutMs: config.messages.joinTimeoutMs,
    });
    const submits = new SubmitHandler({
      clock,
      intake,
      metrics,
      account: (id) => auth.account(id),
      formatId: (id, format) => ids.format(id, format),
      noRouteStatus: config.routing.noRouteStatus,
    });
    const manage = new ManageHandler({
      ledger,
      carrier: dispatcher,
      account: (id) => auth.account(id),
      ids,
      logger: log,
      maxPduSize: config.smpp.session.maxPduSize,
    });
    const tables = new Tables({ db, routers, connectors, auth, intake, dispatcher, delivery, metrics, logger: log });
    metrics.countQueues = () => Object.fromEntries([...dispatcher.links].map(([id, l]) => [id, l.queued]));
    metrics.oldestQueued = () => dispatcher.queueAges();
    // A series per live account (0 when nothing waits) and per configured connector (0 until bound).
    metrics.countOutbox = () => ({ ...Object.fromEntries(auth.live().map((a) => [a.systemId, 0])), ...delivery.countByAccount() });
    metrics.countConnectorsUp = () => Object.fromEntries([...tables.connectorIds].map((id) => [id, dispatcher.links.get(id)?.up ? 1 : 0]));

    tables.sync();
    // Resume: messages accepted but not yet taken by a carrier, and undelivered receipts/MOs.
    const queued = dispatcher.resume();
    const waiting = delivery.resume();
    if (queued + waiting > 0) log.info({ messages: queued, outbox: waiting }, 'resumed queued work');

    const { smpp } = config;
    const handlers = esmeHandlers({ auth, registry, submits, manage, metrics, logger: log });
    const perIp = {
      maxConnectionsPerIp: config.security.maxConnectionsPerIp,
      onRefused: (reason: 'per_ip' | 'total') => metrics.connectionsRefused.inc({ reason }),
    };
    const plain = new SmppServer({
      host: smpp.host,
      port: smpp.port,
      handlers,
      session: sessionDefaults,
      maxConnections: smpp.maxConnections,
      logger: log,
      ...perIp,
    });
    const listeners = [plain];
    let tls: SmppServer | undefined;
    if (smpp.tls.enabled) {
      tls = new SmppServer({
        host: smpp.host,
        port: smpp.tls.port,
        handlers,
        session: sessionDefaults,
        maxConnections: smpp.maxConnections,
        logger: log,
        ...perIp,
        tls: {
          cert: readFileSync(smpp.tls.cert),
          key: readFileSync(smpp.tls.key),
          ...(smpp.tls.ca ? { ca: readFileSync(smpp.tls.ca) } : {}),
          requestCert: smpp.tls.requestCert,
          rejectUnauthorized: smpp.tls.requestCert,
          ciphers: smpp.tls.ciphers,
          handshakeTimeoutMs: smpp.tls.handshakeTimeoutMs,
        },
      });
      listeners.push(tls);
    }
    metrics.countConnections = () => ({ smpp: plain.connectionCount, ...(tls ? { 'smpp-tls': tls.connectionCount } : {}) });
    const http = new MetricsServer(
      metrics,
      {
        // Liveness: this answer itself shows the event loop turns (a probe's timeout is the bound);
        // the database handle must still read. Not the store's writability: that is readiness, and a
        // container killed for it would restart-loop exactly when it must hold its state.
        alive: () => store.readable(),
        ready: () => this.accepting,
        notReadyReason: () => (store.health.reason ? `store ${store.health.reason}` : this.ready ? undefined : 'starting or stopping'),
        status: () => this.status(),
        lockouts: {
          list: (filter) => lockout.list(filter),
          clear: (filter) => {
            const cleared = lockout.clear(filter);
            log.info({ cleared, remote: filter.address, systemId: filter.systemId }, 'lockouts cleared by the operator');
            return cleared;
          },
        },
      },
      log,
      config.http.token,
    );
    const housekeeping = new Housekeeping({
      config,
      logger: log,
      ledger,
      dispatcher,
      delivery,
      receipts,
      canWrite: () => this.accepting,
    });
    this.parts = { store, tables, auth, registry, lockout, dispatcher, delivery, intake, ids, listeners, http, housekeeping };
    const addresses: GatewayAddresses = {
      smpp: await plain.listen(),
      ...(tls ? { smppTls: await tls.listen() } : {}),
      http: await http.listen(config.http.host, config.http.port),
    };
    housekeeping.every(config.store.reloadMs, () => tables.sync());
    housekeeping.start();
    store.start({ smppPort: addresses.smpp.port, httpPort: addresses.http.port });
    this.ready = true;
    log.info({ smpp: addresses.smpp.port, smppTls: addresses.smppTls?.port, http: addresses.http.port }, 'smppgw ready');
    return addresses;
  }

  /** Stops accepting, lets in-flight work finish within the shutdown deadline, closes the store. */
  async stop(): Promise<void> {
    this.ready = false;
    const p = this.parts;
    if (p) {
      p.housekeeping.stop();
      const deadline = this.config.shutdown.deadlineMs;
      // One deadline for all of it: accounts' sessions and carrier links close side by side.
      await Promise.all([...p.listeners.map((l) => l.close(deadline)), p.dispatcher.stop(deadline)]);
      p.delivery.stop();
      await p.store.close(); // the last commits, the database, then its lock
      await p.http.close();
    }
    this.log.info('smppgw stopped');
  }

  /**
   * SIGHUP: takes the settings that can change while running (carrier error rules and retries, bind
   * lockouts, the shutdown deadline) and rereads the tables. Other changes (listeners, store,
   * sessions, log level, message TTLs) need a restart; which sections differ is logged.
   */
  reloadConfig(next: Config): void {
    const p = this.started();
    const needRestart: string[] = (['smpp', 'http', 'store', 'log', 'messages', 'routing', 'cluster'] as const).filter(
      (k) => JSON.stringify(next[k]) !== JSON.stringify(this.config[k]),
    );
    // Read when links start.
    for (const k of ['tlsCa', 'tlsCert', 'tlsKey'] as const) if (next.smsc[k] !== this.config.smsc[k]) needRestart.push(`smsc.${k}`);
    p.dispatcher.rules = errorRules(next);
    p.lockout.policy = lockoutPolicy(next);
    p.tables.invalidate();
    p.tables.sync();
    this.config = { ...this.config, smsc: next.smsc, security: next.security, shutdown: next.shutdown };
    this.log.info(
      { applied: ['smsc', 'security', 'shutdown'], needRestart },
      needRestart.length ? 'configuration reloaded; some changes need a restart' : 'configuration reloaded',
    );
  }

  /** What `smppgw status` shows: binds, queues, rates. */
  status(): GatewayStatus {
    const p = this.started();
    return {
      ready: this.accepting,
      store: p.store.health.reason ?? 'ok',
      binds: p.registry.snapshot((id) => p.auth.name(id)),
      connectors: Object.fromEntries(
        [...p.dispatcher.links].map(([id, l]) => [id, { up: l.up, queued: l.queued, inFlight: l.inFlight, tps: l.settings.tps, window: l.settings.window }]),
      ),
      ...(p.tables.unreadableIds.length ? { connectorsUnreadable: p.tables.unreadableIds } : {}),
      outbox: p.delivery.countByAccount(),
      // Bounded: an address guessing across many system_ids is locked as a whole.
      lockouts: p.lockout
        .list()
        .slice(0, 100)
        .map((l) => ({ ...l, until: new Date(l.until).toISOString() })),
      outboxInMemory: p.delivery.size,
      messagesInMemory: p.dispatcher.heldCount,
      commits: p.store.commit.commits,
      writes: p.store.commit.writes,
      syncs: p.store.commit.syncs,
      // Over the last ~10 s: messages accepted per account, sent (answered OK) per connector.
      rates: { acceptedPerSecond: this.metrics.accepted.rates(), sentPerSecond: this.metrics.sent.rates() },
    };
  }

  /** Ready: started, not stopping, and the store taking writes (readiness, status, bulk jobs). */
  private get accepting(): boolean {
    return this.ready && (this.parts?.store.health.ok ?? false);
  }

  private started(): Parts {
    if (!this.parts) throw new Error('the gateway has not started');
    return this.parts;
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

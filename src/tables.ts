// Takes account, connector and route changes made with the CLI while the gateway runs, without
// dropping binds: each tick compares the tables' version and, when it moved, hands the new rows to
// the parts that use them (auth, intake rates, routers, carrier links, metrics series).
import type { EsmeAuth } from './esme/auth.js';
import type { OutboxDelivery } from './messages/outbox-delivery.js';
import type { Intake } from './messages/intake.js';
import type { Logger } from './log.js';
import { forgetSeries, type Metrics } from './metrics.js';
import { MoRouter } from './routing/mo.js';
import { MtRouter } from './routing/mt.js';
import type { Dispatcher } from './smsc/dispatcher.js';
import { AccountStore } from './store/accounts.js';
import type { Connector, ConnectorStore } from './store/connectors.js';
import { configVersion, type Db } from './store/db.js';
import { RouteStore } from './store/routes.js';

/** The routing tables in force: replaced whole on each change, read by intake and inbound. */
export interface Routers {
  mt: MtRouter;
  mo: MoRouter;
}

export function emptyRouters(): Routers {
  return { mt: new MtRouter([]), mo: new MoRouter([]) };
}

export interface TablesOptions {
  db: Db;
  routers: Routers;
  connectors: ConnectorStore;
  auth: EsmeAuth;
  intake: Intake;
  dispatcher: Dispatcher;
  delivery: OutboxDelivery;
  metrics: Metrics;
  logger: Logger;
}

export class Tables {
  private version = -1;
  /** Every connector in the table, enabled or not (a metric series each). */
  private configured = new Set<string>();
  /** Connectors left down because their password cannot be opened: id → the problem (logged once). */
  private readonly unreadable = new Map<string, string>();

  constructor(private readonly o: TablesOptions) {}

  /** Connector ids in the table, enabled or not. */
  get connectorIds(): ReadonlySet<string> {
    return this.configured;
  }

  get unreadableIds(): string[] {
    return [...this.unreadable.keys()];
  }

  /** Rereads everything on the next sync (a configuration reload). */
  invalidate(): void {
    this.version = -1;
  }

  sync(): void {
    const { db, auth, dispatcher, delivery, metrics, logger: log } = this.o;
    const v = configVersion(db);
    if (v === this.version) return;
    const first = this.version === -1;
    this.version = v;
    const accounts = new AccountStore(db).list();
    for (const id of auth.load(accounts)) {
      // Removed (or removed and re-created): nothing of the old account is sent or delivered any more.
      const dropped = dispatcher.forgetAccount(id);
      delivery.forget(id);
      void forgetSeries(metrics.registry, 'account', auth.name(id));
      metrics.accepted.forget(auth.name(id));
      log.info({ account: auth.name(id), accountId: id, droppedMessages: dropped }, 'account removed');
    }
    this.o.intake.reload(accounts);
    const routes = new RouteStore(db);
    this.o.routers.mt = new MtRouter(routes.listMt());
    this.o.routers.mo = new MoRouter(routes.listMo());
    dispatcher.reconcile(this.readable());
    const configured = new Set(this.o.connectors.list().map((c) => c.id));
    for (const id of this.configured) {
      if (configured.has(id)) continue;
      void forgetSeries(metrics.registry, 'connector', id);
      metrics.sent.forget(id);
    }
    this.configured = configured;
    log.info(
      { version: v, accounts: accounts.length, connectors: dispatcher.links.size, mtRoutes: this.o.routers.mt.size },
      first ? 'tables loaded' : 'tables reloaded',
    );
  }

  /** The enabled connectors whose password opens; each one that does not is logged once and left down. */
  private readable(): Connector[] {
    const { connectors: usable, unreadable } = this.o.connectors.withPasswords();
    const now = new Map(unreadable.map((u) => [u.id, `${u.updatedAt}:${u.error.message}`]));
    for (const u of unreadable) {
      if (this.unreadable.get(u.id) === now.get(u.id)) continue;
      this.o.logger.error({ connector: u.id, code: u.error.code, err: u.error.message }, 'connector left down: its password cannot be opened');
    }
    this.unreadable.clear();
    for (const [id, problem] of now) this.unreadable.set(id, problem);
    return usable;
  }
}

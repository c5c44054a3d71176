// Sends accepted MT messages to carriers and decides what each outcome means: record the carrier's
// id, retry later, fail over to the route's next connector, or end the message (and write the
// receipt the account asked for). Keeps the running connectors in step with the connector table.
import type { Clock } from '../clock.js';
import type { ReceiptService } from '../dlr/service.js';
import { MessageState } from '../dlr/receipt.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { TimerQueue } from '../rate/timer-queue.js';
import { ESME_RTHROTTLED, statusName } from '../smpp/defs.js';
import type { Connector } from '../store/connectors.js';
import type { GroupCommit } from '../store/group-commit.js';
import type { Ledger } from '../store/ledger.js';
import { ConnectorLink, type ConnectorOptions, type Outgoing, type SubmitOutcome } from './connector.js';
import type { ErrorRules } from './rules.js';

export interface DispatcherOptions {
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  commit: GroupCommit;
  ledger: Ledger;
  receipts: ReceiptService;
  rules: ErrorRules;
  /** Builds a link (tests and the gateway pass the session defaults and TLS material). */
  link: (config: Connector, hooks: ConnectorOptions['hooks']) => ConnectorLink;
  inbound: ConnectorOptions['hooks']['inbound'];
}

export class Dispatcher {
  readonly links = new Map<string, ConnectorLink>();
  /** Messages here that no carrier has accepted yet (queued, in flight, or waiting to retry). */
  private readonly held = new Map<number, Outgoing>();
  /** Messages none of whose connectors runs; tried again after each table change. */
  private readonly orphans = new Set<Outgoing>();
  private readonly retries: TimerQueue;
  private readonly log: Logger;
  /** What carrier errors mean; replaced on a configuration reload. */
  rules: ErrorRules;

  constructor(private readonly o: DispatcherOptions) {
    this.rules = o.rules;
    this.log = o.logger.child({ part: 'dispatcher' });
    this.retries = new TimerQueue(o.clock, (err) => this.log.error({ err: String(err) }, 'retry job failed'));
  }

  /** Starts, updates and stops links to match the connector table. */
  reconcile(connectors: readonly Connector[]): void {
    const wanted = new Map(connectors.filter((c) => c.enabled).map((c) => [c.id, c]));
    for (const [id, link] of this.links) {
      const next = wanted.get(id);
      const s = link.settings;
      const rebind = !next || next.host !== s.host || next.port !== s.port || next.systemId !== s.systemId || next.password !== s.password
        || next.systemType !== s.systemType || next.bind !== s.bind || next.tls !== s.tls || next.window !== s.window;
      if (!rebind) {
        link.update(next);
        continue;
      }
      this.links.delete(id);
      const orphans = link.drainQueue();
      void link.stop(5_000);
      this.log.info({ connector: id, reason: next ? 'settings changed' : 'removed or disabled' }, 'connector stopped');
      if (next) this.start(next);
      for (const msg of orphans) this.submit(msg);
    }
    for (const c of wanted.values()) if (!this.links.has(c.id)) this.start(c);
    const waiting = [...this.orphans];
    this.orphans.clear();
    for (const msg of waiting) this.submit(msg);
  }

  /** Hands a committed message to the first of its connectors that is up (or the first, to wait). */
  submit(msg: Outgoing): void {
    if (msg.cancelled) return;
    this.held.set(msg.id, msg);
    if (Date.now() >= msg.expiresAt) {
      this.finish(msg, MessageState.EXPIRED, null, null);
      return;
    }
    const n = msg.connectors.length;
    for (let k = 0; k < n; k++) {
      const i = (msg.tried + k) % n;
      const link = this.links.get(msg.connectors[i]!);
      if (link?.up) {
        msg.tried = i;
        link.enqueue(msg);
        return;
      }
    }
    const link = this.links.get(msg.connectors[msg.tried % n]!) ?? [...msg.connectors].map((id) => this.links.get(id)).find((l) => l !== undefined);
    if (link) {
      link.enqueue(msg);
      return;
    }
    // None of its connectors runs (removed or disabled): it waits for the next table change.
    if (this.orphans.size === 0) this.log.warn({ msgId: msg.id, connectors: msg.connectors }, 'messages wait: none of their connectors runs');
    this.orphans.add(msg);
  }

  /** A message not yet taken by a carrier, if it is here. */
  holding(id: number): Outgoing | undefined {
    return this.held.get(id);
  }

  /** Stops every link (unbind, in-flight answered up to the deadline); pending retries stay queued in the ledger. */
  async stop(deadlineMs: number): Promise<void> {
    this.retries.clear();
    await Promise.all([...this.links.values()].map((l) => l.stop(deadlineMs)));
  }

  get queuedTotal(): number {
    let n = 0;
    for (const l of this.links.values()) n += l.queued;
    return n + this.retries.size + this.orphans.size;
  }

  private start(c: Connector): void {
    const link: ConnectorLink = this.o.link(c, {
      inbound: this.o.inbound,
      result: (msg, outcome, connector) => this.onResult(msg, outcome, connector),
      // A replaced link's late unbind must not act on its successor of the same id.
      state: (id, up) => {
        if (this.links.get(id) === link) this.onState(id, up);
      },
    });
    this.links.set(c.id, link);
    link.start();
  }

  private onState(id: string, up: boolean): void {
    this.o.metrics.connectorUp.set({ connector: id }, up ? 1 : 0);
    const link = this.links.get(id);
    if (!link) return;
    if (up) {
      // Messages parked on a link that is down move to this one when their route names it.
      for (const other of this.links.values()) {
        if (other === link || other.up || other.queued === 0) continue;
        for (const msg of other.drainQueue()) {
          const i = msg.connectors.indexOf(id);
          if (i >= 0) msg.tried = i;
          (i >= 0 ? link : other).enqueue(msg);
        }
      }
      return;
    }
    // Failover: messages waiting on a link that went down move to the next connector that is up.
    for (const msg of link.drainQueue()) {
      if (msg.connectors.length > 1) msg.tried = (msg.tried + 1) % msg.connectors.length;
      this.submit(msg);
    }
  }

  private onResult(msg: Outgoing, outcome: SubmitOutcome, connector: string): void {
    if (outcome.kind === 'expired') {
      this.finish(msg, MessageState.EXPIRED, null, null); // never sent: nothing to count as a submit
      return;
    }
    const m = this.o.metrics;
    const label = outcome.kind === 'ok' ? 'ESME_ROK' : outcome.kind === 'status' ? statusName(outcome.status) : outcome.kind;
    m.connectorSubmits.inc({ connector, status: m.statusLabel(label) });
    m.connectorLatency.observe({ connector }, outcome.ms / 1000);
    if (msg.cancelled) return; // cancel_sm ended it meanwhile
    if (outcome.kind === 'ok') {
      this.held.delete(msg.id);
      this.o.receipts.recordSent(msg.id, connector, outcome.smscId).catch((err: Error) => {
        this.log.error({ err: err.message, msgId: msg.id }, 'could not record the carrier id');
      });
      return;
    }
    if (outcome.kind === 'status' && outcome.status === ESME_RTHROTTLED) {
      m.throttled.inc({ side: 'connector', name: connector });
      this.links.get(connector)?.slowDown();
    }
    const status = outcome.kind === 'status' ? outcome.status : null;
    if (this.rules.classify(status) === 'permanent') {
      // A refusal is REJECTD; a permanent "no answer" (rules.noResponse) is UNDELIV.
      this.finish(msg, status === null ? MessageState.UNDELIVERABLE : MessageState.REJECTED, status, connector);
      return;
    }
    if (msg.attempts >= this.rules.policy.maxAttempts) {
      this.finish(msg, MessageState.UNDELIVERABLE, status, connector);
      return;
    }
    m.retries.inc({ connector });
    // Fail over at once when the route has another connector that is up; otherwise back off.
    const n = msg.connectors.length;
    for (let k = 1; k < n; k++) {
      const i = (msg.tried + k) % n;
      if (this.links.get(msg.connectors[i]!)?.up) {
        msg.tried = i;
        this.submit(msg);
        return;
      }
    }
    this.retryLater(msg, status);
  }

  private retryLater(msg: Outgoing, status: number | null): void {
    const delay = this.rules.delayMs(msg.attempts, status);
    const nextAt = Date.now() + delay;
    this.o.commit.run(() => this.o.ledger.markRetry(msg.id, nextAt, status ?? 0)).catch((err: Error) => this.log.error({ err: err.message }, 'could not record retry'));
    this.retries.add(delay, () => this.submit(msg));
  }

  /** Ends a message that is still here (cancel_sm): it will not be sent. */
  cancel(msg: Outgoing, state: number): Promise<void> {
    msg.cancelled = true;
    this.held.delete(msg.id);
    return this.o.receipts.recordFinal(msg, state, null, null);
  }

  private finish(msg: Outgoing, state: number, status: number | null, connector: string | null): void {
    this.held.delete(msg.id);
    this.o.metrics.finalStates.inc({ state: String(state) });
    this.o.receipts
      .recordFinal(msg, state, status, connector)
      .catch((err: Error) => this.log.error({ err: err.message, msgId: msg.id }, 'could not record final state'));
  }
}

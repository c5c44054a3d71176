// Sends accepted MT messages to carriers and decides what each outcome means: record the carrier's
// id, retry later, fail over to the route's next connector, or end the message (and write the
// receipt the account asked for). Keeps the running connectors in step with the connector table.
import type { Clock } from '../clock.js';
import type { ReceiptService } from '../dlr/service.js';
import { MessageState } from '../smpp/message-state.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { TimerQueue } from '../rate/timer-queue.js';
import { ESME_RTHROTTLED, statusName } from '../smpp/defs.js';
import type { Connector } from '../store/connectors.js';
import type { GroupCommit } from '../store/group-commit.js';
import { StoreUnavailableError, logWriteError } from '../store/health.js';
import type { Ledger } from '../store/ledger.js';
import { ConnectorLink, type ConnectorOptions, type Outgoing, type SubmitOutcome } from './connector.js';
import { CarrierIdCheck } from './carrier-ids.js';
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
  /** Messages held in memory at most (default 100,000); past it, new ones wait in the ledger only. */
  maxHeld?: number;
}

export class Dispatcher {
  readonly links = new Map<string, ConnectorLink>();
  /** Messages here that no carrier has accepted yet (queued, in flight, or waiting to retry). */
  private readonly held = new Map<number, Outgoing>();
  /** Messages none of whose connectors runs; tried again after each table change. */
  private readonly orphans = new Set<Outgoing>();
  /** Messages that left `held` whose new state (sent, final) is not committed yet: not to be paged in again. */
  private readonly settling = new Set<number>();
  private readonly maxHeld: number;
  /**
   * Memory is bounded: past maxHeld, accepted messages stay in the ledger (state queued) and are
   * paged in, oldest first, as held ones leave. `spillFrom` is the lowest id that may be waiting
   * there (undefined: none); `seenId` the highest id handed to accept(), so a page never reads a
   * message whose hand-over is still on its way.
   */
  private spillFrom: number | undefined;
  private seenId = 0;
  /** While the store cannot record outcomes: messages held here instead of going to a link. */
  private paused: Outgoing[] | undefined;
  private readonly retries: TimerQueue;
  private readonly log: Logger;
  private readonly ids: CarrierIdCheck;
  /** Submit response timeouts in a row, per connector (reset by any answer). */
  private readonly timeoutsInRow = new Map<string, number>();
  /** What carrier errors mean; replaced on a configuration reload. */
  rules: ErrorRules;

  constructor(private readonly o: DispatcherOptions) {
    this.rules = o.rules;
    this.maxHeld = o.maxHeld ?? 100_000;
    this.log = o.logger.child({ part: 'dispatcher' });
    this.retries = new TimerQueue(o.clock, (err) => this.log.error({ err: String(err) }, 'retry job failed'));
    this.ids = new CarrierIdCheck(o.metrics, this.log);
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

  /** A newly accepted (committed) message: held and sent, or left in the ledger while memory is full. */
  accept(msg: Outgoing): void {
    if (msg.id > this.seenId) this.seenId = msg.id;
    if (this.spillFrom !== undefined || this.held.size >= this.maxHeld) {
      if (this.spillFrom === undefined || msg.id < this.spillFrom) {
        if (this.spillFrom === undefined) this.log.warn({ held: this.held.size }, 'messages held in memory at the limit; new ones wait in the ledger');
        this.spillFrom = msg.id;
      }
      return;
    }
    this.submit(msg);
  }

  /** At start: every message queued in the ledger waits, a page at a time. Returns how many. */
  resume(): number {
    this.seenId = Math.max(this.seenId, this.o.ledger.maxId());
    const n = this.o.ledger.countQueued();
    if (n > 0) {
      this.spillFrom = 0;
      this.refill();
    }
    return n;
  }

  /** Messages here (queued, in flight or waiting to retry). */
  get heldCount(): number {
    return this.held.size;
  }

  /**
   * Ends queued messages whose validity ran out: held ones that are not on the wire (a link that
   * is down keeps its queue), and those only the ledger holds. Called periodically.
   */
  expireQueued(now = Date.now()): number {
    let n = 0;
    for (const msg of this.held.values()) {
      if (msg.inFlight || msg.cancelled || msg.expiresAt > now) continue;
      msg.cancelled = true; // skipped where it waits (a link queue, a retry timer, the orphans)
      this.orphans.delete(msg);
      this.finish(msg, MessageState.EXPIRED, null, null);
      n++;
    }
    if (n > 0) for (const link of this.links.values()) link.dropCancelled();
    if (this.spillFrom !== undefined) {
      for (const m of this.o.ledger.expiredQueued(now, 5_000)) {
        if (this.held.has(m.id) || this.settling.has(m.id)) continue;
        this.finish({ ...m, connectors: [], tried: 0, attempts: 0, expiresAt: now }, MessageState.EXPIRED, null, null);
        n++;
      }
    }
    return n;
  }

  /**
   * The store cannot record what a carrier answers (disk full, locked, lost): nothing more goes
   * out (queued messages come back here; those on the wire finish); `false` sends them again.
   */
  pauseSending(pause: boolean): void {
    if (pause && this.paused === undefined) {
      this.paused = [];
      for (const link of this.links.values()) this.paused.push(...link.drainQueue());
    } else if (!pause && this.paused !== undefined) {
      const waiting = this.paused;
      this.paused = undefined;
      for (const msg of waiting) this.submit(msg);
    }
  }

  /** Hands a held message to the first of its connectors that is up (or the first, to wait). */
  submit(msg: Outgoing): void {
    if (msg.cancelled) return;
    this.held.set(msg.id, msg);
    if (Date.now() >= msg.expiresAt) {
      this.finish(msg, MessageState.EXPIRED, null, null);
      return;
    }
    if (this.paused !== undefined) {
      this.paused.push(msg);
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

  /**
   * Runs `work` on a queued message that only the ledger holds (memory was full), keeping it from
   * being paged in until `work` settles; undefined if the message is held here or settling.
   */
  whileStored<T>(id: number, work: () => Promise<T>): Promise<T> | undefined {
    if (this.held.has(id) || this.settling.has(id)) return undefined;
    this.settling.add(id);
    const done = work();
    void done.catch(() => undefined).finally(() => {
      this.settling.delete(id);
      this.refill();
    });
    return done;
  }

  /**
   * The account was removed with --purge: its queued messages were ended DELETED in the ledger by
   * that command, so the ones held here go without being sent (one on the wire stays DELETED: the
   * ledger refuses to record it as sent). One accepted after the purge, before this process saw
   * the removal, is still queued in the ledger and goes out. Returns how many were dropped.
   */
  forgetAccount(accountId: number): number {
    let n = 0;
    for (const msg of this.held.values()) {
      if (msg.accountId !== accountId || msg.inFlight || msg.cancelled) continue;
      if (this.o.ledger.get(msg.id)?.state === MessageState.QUEUED) continue;
      msg.cancelled = true; // skipped where it waits (a link queue, a retry timer, the orphans)
      this.orphans.delete(msg);
      this.held.delete(msg.id);
      n++;
    }
    if (n > 0) for (const link of this.links.values()) link.dropCancelled();
    return n;
  }

  /** Ends a queued message that only the ledger holds (inside whileStored). */
  cancelStored(m: { id: number; accountId: number; pdu: Buffer; submittedAt: number }, state: number): Promise<void> {
    return this.o.receipts.recordFinal(m, state, null, null);
  }

  /** Pages queued messages in from the ledger while there is room (half the limit free). */
  private refill(): void {
    if (this.spillFrom === undefined || this.held.size > this.maxHeld / 2) return;
    const room = this.maxHeld - this.held.size;
    const page = this.o.ledger.queuedPage(this.spillFrom, this.seenId, room);
    this.spillFrom = page.length < room ? undefined : page[page.length - 1]!.id + 1;
    for (const m of page) if (!this.held.has(m.id) && !this.settling.has(m.id)) this.submit({ ...m, tried: 0 });
    if (this.spillFrom === undefined) this.log.info({ held: this.held.size }, 'every queued message is held in memory again');
  }

  /** `msg` left `held`; `recorded` settles once its new state is committed. */
  private settle(msg: Outgoing, recorded: Promise<void>): void {
    this.held.delete(msg.id);
    this.settling.add(msg.id);
    void recorded.finally(() => {
      this.settling.delete(msg.id);
      this.refill();
    });
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
    if (outcome.kind === 'unanswered') {
      // --on-timeout wait, and no late answer: the carrier may have it, so it is not sent again.
      // Kept as sent without a carrier id (no receipt can name it): its validity ends it.
      if (msg.cancelled) return;
      this.log.debug({ msgId: msg.id, connector }, 'no answer to a submit on a wait connector; kept as sent without a carrier id');
      this.settle(msg, this.o.receipts.recordSent(msg.id, connector, '', Date.now() - outcome.ms - 1).catch((err: unknown) => logWriteError(this.log, err, { msgId: msg.id }, 'could not record the message as sent')));
      return;
    }
    const m = this.o.metrics;
    const label = outcome.kind === 'ok' ? 'ESME_ROK' : outcome.kind === 'status' ? statusName(outcome.status) : outcome.kind;
    m.connectorSubmits.inc({ connector, status: m.statusLabel(label) });
    m.connectorLatency.observe({ connector }, outcome.ms / 1000);
    if (outcome.kind === 'ok') m.sent.mark(connector);
    if (outcome.kind === 'timeout') this.timedOut(connector);
    else if (outcome.kind !== 'closed') this.timeoutsInRow.delete(connector);
    if (outcome.kind === 'timeout' && outcome.waiting) return; // its late answer (or none) comes back here
    if (msg.cancelled) return; // cancel_sm ended it meanwhile
    if (outcome.kind === 'ok') {
      const sentAt = Date.now() - outcome.ms - 1;
      const { smscId } = outcome;
      this.ids.check(connector, smscId, msg.id);
      this.settle(
        msg,
        this.o.receipts.recordSent(msg.id, connector, smscId, sentAt).catch((err: unknown) =>
          this.stored(err, () => this.o.receipts.recordSent(msg.id, connector, smscId, sentAt), msg.id, 'could not record the carrier id'),
        ),
      );
      return;
    }
    if (outcome.kind === 'status' && outcome.status === ESME_RTHROTTLED) {
      m.connectorThrottled.inc({ connector });
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
    if (outcome.kind === 'timeout' || outcome.kind === 'closed') {
      // Sent and never answered: the carrier may have it; every resend may be a duplicate, so
      // they are counted and bounded.
      if ((msg.resends ?? 0) >= (this.rules.policy.maxResends ?? 2)) {
        this.finish(msg, MessageState.UNDELIVERABLE, null, connector);
        return;
      }
      msg.resends = (msg.resends ?? 0) + 1;
      m.carrierResends.inc({ connector });
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

  /** A `reconnect` connector binds again after timeoutsBeforeRebind response timeouts in a row. */
  private timedOut(connector: string): void {
    const n = (this.timeoutsInRow.get(connector) ?? 0) + 1;
    const link = this.links.get(connector);
    if (n < (this.rules.policy.timeoutsBeforeRebind ?? 3) || link?.settings.onTimeout !== 'reconnect') {
      this.timeoutsInRow.set(connector, n);
      return;
    }
    this.timeoutsInRow.delete(connector);
    this.o.metrics.carrierRebinds.inc({ connector });
    link.rebind(n);
  }

  private retryLater(msg: Outgoing, status: number | null): void {
    const delay = this.rules.delayMs(msg.attempts, status);
    const nextAt = Date.now() + delay;
    this.o.commit.run(() => this.o.ledger.markRetry(msg.id, nextAt, status ?? 0)).catch((err: Error) => logWriteError(this.log, err, { msgId: msg.id }, 'could not record retry'));
    this.retries.add(delay, () => this.submit(msg));
  }

  /** Ends a message that is still here (cancel_sm): it will not be sent. */
  cancel(msg: Outgoing, state: number): Promise<void> {
    msg.cancelled = true;
    const recorded = this.o.receipts.recordFinal(msg, state, null, null);
    this.settle(msg, recorded.catch(() => undefined));
    return recorded;
  }

  private finish(msg: Outgoing, state: number, status: number | null, connector: string | null): void {
    this.o.metrics.finalStates.inc({ state: String(state) });
    this.settle(
      msg,
      this.o.receipts.recordFinal(msg, state, status, connector).catch((err: unknown) =>
        this.stored(err, () => this.o.receipts.recordFinal(msg, state, status, connector), msg.id, 'could not record final state'),
      ),
    );
  }

  /**
   * A write about a message that left memory failed with `err`. Refused for now (disk full,
   * locked): `again` runs every second until it commits (the carrier took the message: sending
   * it again would be a duplicate). A real fault, or the store lost, is logged and left.
   */
  private stored(err: unknown, again: () => Promise<void>, msgId: number, what: string): Promise<void> | void {
    if (!(err instanceof StoreUnavailableError) || err.reason === 'lost') return logWriteError(this.log, err, { msgId }, what);
    return new Promise<void>((resolve) =>
      this.retries.add(1_000, () => resolve(again().catch((next: unknown) => this.stored(next, again, msgId, what)))),
    );
  }
}

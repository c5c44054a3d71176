// The carrier side's front: takes accepted MT messages, places them on carrier links, acts on what
// each outcome means, and changes (cancel, replace) messages not yet taken by a carrier. The
// concerns live in their own units: links.ts (the running links, kept in step with the connector
// table), placement.ts (choice and failover), outcome.ts (what an answer means), retries.ts
// (backoff), paging.ts (memory bounded, the rest paged in from the ledger).
import type { Clock } from '../clock.js';
import { MessageState, isFinal } from '../smpp/message-state.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Connector } from '../store/connectors.js';
import type { GroupCommit } from '../store/group-commit.js';
import { StoreUnavailableError, logWriteError } from '../store/health.js';
import type { Ledger, MessageRecord, QueuedMessage } from '../store/ledger.js';
import { parseSmppTime } from '../smpp/time.js';
import { CarrierIdCheck } from './carrier-ids.js';
import { inPriorityLane, priorityFlagOffset } from './priority.js';
import type { CarrierLink, CarrierRequest, ConnectorHooks, Outgoing, SubmitOutcome } from './link.js';
import { Links, type LinkFactory } from './links.js';
import { OutcomePolicy } from './outcome.js';
import { Paging } from './paging.js';
import { failOver, gatherOnUp, leaveDownLink, place } from './placement.js';
import { Retries } from './retries.js';
import { DuePaging } from './schedule.js';
import type { ErrorRules } from './rules.js';

/** A message as its receipt needs it. */
export interface ReceiptSubject {
  id: number;
  accountId: number;
  origin?: Outgoing['origin'];
  pdu: Buffer;
  submittedAt: number;
}

/** Where outcomes are recorded (dlr/service.ts): the carrier's id, or a final state with the account's receipt. */
export interface OutcomeRecords {
  recordSent(id: number, connector: string, smscIdRaw: string, sentAt: number): Promise<void>;
  recordFinal(msg: ReceiptSubject, state: number, status: number | null, connector: string | null): Promise<void>;
}

export type DispatcherLedger = Pick<
  Ledger,
  'queuedPage' | 'countQueued' | 'maxId' | 'markRetry' | 'expiredQueued' | 'get' | 'replacePdu' | 'duePage' | 'nextDue'
>;

export interface DispatcherOptions {
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  commit: GroupCommit;
  ledger: DispatcherLedger;
  receipts: OutcomeRecords;
  rules: ErrorRules;
  /** Builds a link (the gateway passes the session defaults and TLS material; tests, fakes). */
  link: LinkFactory;
  inbound: ConnectorHooks['inbound'];
  /** Messages held in memory at most (default 100,000); past it, new ones wait in the ledger only. */
  maxHeld?: number;
  /** The highest priority_flag an account is granted (default 0): for messages paged in from the ledger. */
  maxPriority?: (accountId: number) => number;
  /** An account's system_id, for metrics (default: its internal id). */
  accountName?: (accountId: number) => string;
}

/** What became of a cancel or replace: done, or refused with the reason. */
export type Change = { ok: true } | { ok: false; why: string };

const OK: Change = { ok: true };

export class Dispatcher {
  private readonly linkSet: Links;
  private readonly paging: Paging;
  private readonly due: DuePaging;
  private readonly retries: Retries;
  private readonly policy: OutcomePolicy;
  /** Messages none of whose connectors runs; tried again after each table change. */
  private readonly orphans = new Set<Outgoing>();
  /** While the store cannot record outcomes: messages held here instead of going to a link. */
  private paused: Outgoing[] | undefined;
  private readonly log: Logger;
  private readonly ids: CarrierIdCheck;

  constructor(private readonly o: DispatcherOptions) {
    this.log = o.logger.child({ part: 'dispatcher' });
    this.policy = new OutcomePolicy(o.rules, o.metrics);
    this.retries = new Retries({ clock: o.clock, commit: o.commit, ledger: o.ledger, logger: this.log });
    this.paging = new Paging(o.ledger, o.maxHeld ?? 100_000, (msg) => this.pagedIn(msg), this.log);
    this.due = new DuePaging(o.ledger, o.clock, (m) => this.dueNow(m));
    this.ids = new CarrierIdCheck(o.metrics, this.log, () => o.clock.wallNow());
    this.linkSet = new Links({
      build: o.link,
      inbound: o.inbound,
      logger: this.log,
      result: (msg, outcome, connector) => this.onResult(msg, outcome, connector),
      state: (link, up) => this.onState(link, up),
    });
  }

  /** What carrier errors mean; replaced on a configuration reload. */
  get rules(): ErrorRules {
    return this.policy.rules;
  }

  set rules(rules: ErrorRules) {
    this.policy.rules = rules;
  }

  /** The running links by connector id. */
  get links(): ReadonlyMap<string, CarrierLink> {
    return this.linkSet.map;
  }

  /** Per connector, the age in seconds of the oldest message queued in each lane (for the gauge). */
  queueAges(): Record<string, { priority?: number; normal?: number }> {
    const now = this.o.clock.wallNow();
    const out: Record<string, { priority?: number; normal?: number }> = {};
    for (const [id, link] of this.links) {
      const p = link.oldest(true);
      const n = link.oldest(false);
      out[id] = { ...(p !== undefined ? { priority: (now - p) / 1000 } : {}), ...(n !== undefined ? { normal: (now - n) / 1000 } : {}) };
    }
    return out;
  }

  /** Starts, updates and stops links to match the connector table. */
  reconcile(connectors: readonly Connector[]): void {
    const moved = this.linkSet.reconcile(connectors);
    const waiting = [...moved, ...this.orphans];
    this.orphans.clear();
    for (const msg of waiting) this.submit(msg);
  }

  /** A newly accepted (committed) message: held and sent, or left in the ledger while memory is full. */
  accept(msg: Outgoing): void {
    if (this.heldUntilDue(msg)) return;
    if (this.paging.admit(msg)) this.submit(msg);
  }

  /** At start: every message queued in the ledger waits, a page at a time (scheduled ones until due). Returns how many. */
  resume(): number {
    this.due.resume();
    return this.paging.resume();
  }

  /** Messages here (queued, in flight or waiting to retry). */
  get heldCount(): number {
    return this.paging.size;
  }

  get queuedTotal(): number {
    let n = 0;
    for (const l of this.links.values()) n += l.queued;
    return n + this.retries.size + this.orphans.size;
  }

  /**
   * Ends queued messages whose validity ran out: held ones that are not on the wire (a link that
   * is down keeps its queue), and those only the ledger holds. Called periodically.
   */
  expireQueued(now = this.o.clock.wallNow()): number {
    let n = 0;
    for (const msg of this.paging.values()) {
      if (msg.inFlight || msg.cancelled || msg.expiresAt > now) continue;
      msg.cancelled = true; // skipped where it waits (a link queue, a retry timer, the orphans)
      this.orphans.delete(msg);
      this.finish(msg, MessageState.EXPIRED, null, null);
      n++;
    }
    if (n > 0) for (const link of this.links.values()) link.dropCancelled();
    // Those only the ledger holds: paged out while memory was full, or scheduled for later.
    for (const m of this.o.ledger.expiredQueued(now, 5_000)) {
      if (this.paging.busy(m.id)) continue;
      this.finish({ ...m, connectors: [], tried: 0, attempts: 0, expiresAt: now }, MessageState.EXPIRED, null, null);
      n++;
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

  /**
   * The account was removed with --purge: its queued messages were ended DELETED in the ledger by
   * that command, so the ones held here go without being sent (one on the wire stays DELETED: the
   * ledger refuses to record it as sent). One accepted after the purge, before this process saw
   * the removal, is still queued in the ledger and goes out. Returns how many were dropped.
   */
  forgetAccount(accountId: number): number {
    let n = 0;
    for (const msg of this.paging.values()) {
      if (msg.accountId !== accountId || msg.inFlight || msg.cancelled) continue;
      if (this.o.ledger.get(msg.id)?.state === MessageState.QUEUED) continue;
      msg.cancelled = true; // skipped where it waits (a link queue, a retry timer, the orphans)
      this.orphans.delete(msg);
      this.paging.forget(msg.id);
      n++;
    }
    if (n > 0) for (const link of this.links.values()) link.dropCancelled();
    return n;
  }

  /**
   * cancel_sm of `record`: one no carrier has taken yet ends DELETED here (held in memory or only
   * in the ledger); one a carrier has is cancelled there. Rejects when the store cannot commit.
   */
  async cancel(record: MessageRecord, request: CarrierRequest & { command: 'cancel_sm' }): Promise<Change> {
    const held = this.paging.get(record.id);
    if (held && !held.inFlight) {
      held.cancelled = true; // skipped where it waits
      const recorded = this.o.receipts.recordFinal(held, MessageState.DELETED, null, null);
      this.paging.release(held, recorded);
      await recorded;
      return OK;
    }
    if (!held && record.state === MessageState.QUEUED && !this.paging.busy(record.id)) {
      const recorded = this.o.receipts.recordFinal(record, MessageState.DELETED, null, null);
      this.paging.keepOut(record.id, recorded);
      await recorded;
      return OK;
    }
    return this.forward(record, request);
  }

  /**
   * replace_sm of `record`: one no carrier has taken yet gets `rewrite` of its stored submit_sm
   * (which may throw to refuse) here and in the ledger; one a carrier has is replaced there.
   */
  async replace(record: MessageRecord, request: CarrierRequest & { command: 'replace_sm' }, rewrite: (stored: Buffer) => Buffer): Promise<Change> {
    const rd = request.registered_delivery ?? 0;
    // A new schedule_delivery_time moves a message held until due (the ledger's due time).
    const scheduled = request.schedule_delivery_time ? parseSmppTime(request.schedule_delivery_time, this.o.clock.wallNow()) : undefined;
    const dueAt = scheduled !== undefined && scheduled > this.o.clock.wallNow() ? scheduled : null;
    const store = (next: Buffer) =>
      this.o.commit
        .run(() => this.o.ledger.replacePdu(record.id, next, rd, dueAt))
        .catch((err: unknown) => {
          if (err instanceof StoreUnavailableError) throw err;
          return false;
        });
    const gone: Change = { ok: false, why: 'the message left meanwhile' };
    const held = this.paging.get(record.id);
    if (held && !held.inFlight) {
      const next = rewrite(held.pdu);
      // In memory first: a link may send it while the commit is under way.
      const previous = held.pdu;
      held.pdu = next;
      if (await store(next)) return OK;
      held.pdu = previous;
      return gone;
    }
    if (!held && record.state === MessageState.QUEUED && !this.paging.busy(record.id)) {
      // Queued in the ledger only (memory was full): replaced there, and paged in as replaced.
      const stored = store(rewrite(record.pdu));
      this.paging.keepOut(record.id, stored);
      if (!(await stored)) return gone;
      if (dueAt !== null) this.due.note(dueAt);
      return OK;
    }
    return this.forward(record, request);
  }

  /** Stops every link (unbind, in-flight answered up to the deadline); pending retries stay queued in the ledger. */
  async stop(deadlineMs: number): Promise<void> {
    this.retries.clear();
    this.due.stop();
    await this.linkSet.stop(deadlineMs);
  }

  /** Sends a cancel_sm/replace_sm for a message a carrier took, naming it by the carrier's id. */
  private async forward(record: MessageRecord, request: CarrierRequest): Promise<Change> {
    if (isFinal(record.state) || record.smscIdRaw === null || record.connector === null) return { ok: false, why: 'message already final or not yet accepted' };
    const sent = this.links.get(record.connector)?.forward({ ...request, message_id: record.smscIdRaw });
    if (!sent) return { ok: false, why: `connector ${record.connector} is down` };
    const status = await sent;
    return status === 0 ? OK : { ok: false, why: `carrier refused ${request.command} (status ${status})` };
  }

  /** Hands a held message to a link (see placement.ts), or keeps it until one of its connectors runs. */
  private submit(msg: Outgoing): void {
    if (msg.cancelled) return;
    this.paging.hold(msg);
    if (this.o.clock.wallNow() >= msg.expiresAt) {
      this.finish(msg, MessageState.EXPIRED, null, null);
      return;
    }
    if (this.paused !== undefined) {
      this.paused.push(msg);
      return;
    }
    const link = place(msg, this.links);
    if (link) {
      link.enqueue(msg);
      return;
    }
    // None of its connectors runs (removed or disabled): it waits for the next table change.
    if (this.orphans.size === 0) this.log.warn({ msgId: msg.id, connectors: msg.connectors }, 'messages wait: none of their connectors runs');
    this.orphans.add(msg);
  }

  /**
   * A message scheduled for later whose (first) connector is `--schedule hold` stays in the ledger
   * only until due (DuePaging pages it in then); true if `msg` is one.
   */
  private heldUntilDue(msg: Outgoing): boolean {
    if (msg.dueAt === undefined || msg.dueAt <= this.o.clock.wallNow()) return false;
    if (this.links.get(msg.connectors[0]!)?.settings.schedule !== 'hold') return false;
    this.due.note(msg.dueAt);
    return true;
  }

  /** A message fell due in the ledger: held and sent unless it is here already (or memory is full: then paged as usual). */
  private dueNow(m: QueuedMessage): void {
    if (this.paging.busy(m.id)) return;
    const msg: Outgoing = { ...m, tried: 0, dueAt: undefined };
    if (!this.paging.admit(msg)) return;
    this.paging.hold(msg);
    this.pagedIn(msg);
  }

  /** A message paged in from the ledger takes its lane as intake gave it (one not due yet goes back there). */
  private pagedIn(msg: Outgoing): void {
    if (this.heldUntilDue(msg)) {
      this.paging.forget(msg.id);
      return;
    }
    const granted = this.o.maxPriority?.(msg.accountId) ?? 0;
    msg.priority = granted > 0 && inPriorityLane(msg.pdu[priorityFlagOffset(msg.pdu)] ?? 0, granted);
    this.submit(msg);
  }

  private onState(link: CarrierLink, up: boolean): void {
    if (up) gatherOnUp(link, this.links);
    else for (const msg of leaveDownLink(link)) this.submit(msg); // failover
  }

  private onResult(msg: Outgoing, outcome: SubmitOutcome, connector: string): void {
    const link = this.links.get(connector);
    const { decision, throttled, rebind } = this.policy.judge(msg, outcome, connector, link?.settings.onTimeout === 'reconnect');
    if (throttled) link?.slowDown();
    if (rebind !== undefined) link?.rebind(rebind);
    switch (decision.act) {
      case 'none':
        return;
      case 'kept': {
        this.log.debug({ msgId: msg.id, connector }, 'no answer to a submit on a wait connector; kept as sent without a carrier id');
        const sentAt = this.o.clock.wallNow() - outcome.ms - 1;
        this.paging.release(
          msg,
          this.o.receipts
            .recordSent(msg.id, connector, '', sentAt)
            .catch((err: unknown) => logWriteError(this.log, err, { msgId: msg.id }, 'could not record the message as sent')),
        );
        return;
      }
      case 'sent': {
        const sentAt = this.o.clock.wallNow() - outcome.ms - 1;
        const { smscId } = decision;
        this.ids.check(connector, smscId, msg.id);
        this.o.metrics.messageParts.inc({ account: this.o.accountName?.(msg.accountId) ?? String(msg.accountId), connector });
        const record = () => this.o.receipts.recordSent(msg.id, connector, smscId, sentAt);
        this.paging.release(
          msg,
          record().catch((err: unknown) => this.retries.rewrite(err, record, msg.id, 'could not record the carrier id')),
        );
        return;
      }
      case 'final':
        this.finish(msg, decision.state, decision.status, outcome.kind === 'expired' ? null : connector);
        return;
      case 'again':
        // Fail over at once when the route has another connector that is up; otherwise back off.
        if (failOver(msg, this.links)) this.submit(msg);
        else this.retries.later(msg, decision.status, this.policy.rules, (m) => this.submit(m));
    }
  }

  private finish(msg: Outgoing, state: number, status: number | null, connector: string | null): void {
    this.o.metrics.finalStates.inc({ state: String(state) });
    const record = () => this.o.receipts.recordFinal(msg, state, status, connector);
    this.paging.release(
      msg,
      record().catch((err: unknown) => this.retries.rewrite(err, record, msg.id, 'could not record final state')),
    );
  }
}

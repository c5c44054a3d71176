// The carrier side in one process: a real ledger, outbox and receipt service on a temp SQLite
// file, a manual clock, and fake links at the CarrierLink interface that the test drives (up,
// down, answer each submit).
import type { TestContext } from 'node:test';
import { ReceiptService } from '../../src/dlr/service.js';
import { silentLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { encode } from '../../src/smpp/codec.js';
import { Dispatcher } from '../../src/smsc/dispatcher.js';
import type { CarrierLink, CarrierRequest, ConnectorHooks, Outgoing, SubmitOutcome } from '../../src/smsc/link.js';
import { ErrorRules, type RetryPolicy } from '../../src/smsc/rules.js';
import type { Connector } from '../../src/store/connectors.js';
import { GroupCommit } from '../../src/store/group-commit.js';
import { Ledger } from '../../src/store/ledger.js';
import { Outbox } from '../../src/store/outbox.js';
import { ManualClock } from './clock.js';
import { tmpDb } from './tmpdb.js';

/** An outcome without its time on the wire (1 ms). */
type Answer = SubmitOutcome extends infer O ? (O extends { ms: number } ? Omit<O, 'ms'> : never) : never;

export class FakeLink implements CarrierLink {
  up = false;
  /** Messages waiting here, in order. */
  readonly queue: Outgoing[] = [];
  /** Messages sent and not yet answered, in order sent. */
  readonly wire: Outgoing[] = [];
  readonly sentIds: number[] = [];
  readonly forwarded: CarrierRequest[] = [];
  forwardStatus = 0;
  started = 0;
  stopped = false;
  slowedDown = 0;
  rebinds = 0;
  updates: Connector[] = [];

  constructor(
    public settings: Connector,
    private readonly hooks: ConnectorHooks,
  ) {}

  get id(): string {
    return this.settings.id;
  }

  get queued(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.wire.length;
  }

  oldest(priority: boolean): number | undefined {
    return this.queue.find((m) => (m.priority === true) === priority)?.submittedAt;
  }

  start(): void {
    this.started++;
  }

  update(config: Connector): void {
    this.settings = config;
    this.updates.push(config);
  }

  slowDown(): void {
    this.slowedDown++;
  }

  enqueue(msg: Outgoing): void {
    this.queue.push(msg);
    this.pump();
  }

  dropCancelled(): void {
    const keep = this.queue.filter((m) => !m.cancelled);
    this.queue.length = 0;
    this.queue.push(...keep);
  }

  drainQueue(): Outgoing[] {
    return this.queue.splice(0);
  }

  rebind(): void {
    this.rebinds++;
  }

  forward(pdu: CarrierRequest): Promise<number> | undefined {
    if (!this.up) return undefined;
    this.forwarded.push(pdu);
    return Promise.resolve(this.forwardStatus);
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  /** Binds (or drops) the link, as the real one reports it. */
  setUp(up: boolean): void {
    this.up = up;
    this.hooks.state(this.id, up);
    this.pump();
  }

  /** Sends everything queued while up and within the window. */
  pump(): void {
    while (this.up && !this.stopped && this.queue.length > 0 && this.wire.length < this.settings.window) {
      const msg = this.queue.shift()!;
      if (msg.cancelled) continue;
      msg.attempts++;
      msg.inFlight = true;
      this.wire.push(msg);
      this.sentIds.push(msg.id);
    }
  }

  /** Answers the oldest submit on the wire (or `msg`) with `outcome`. */
  answer(outcome: Answer, msg = this.wire[0]): Outgoing {
    if (!msg) throw new Error(`nothing on the wire of ${this.id}`);
    this.wire.splice(this.wire.indexOf(msg), 1);
    msg.inFlight = false;
    this.hooks.result(msg, { ms: 1, ...outcome } as SubmitOutcome, this.id);
    this.pump();
    return msg;
  }
}

export const connector = (id: string, over: Partial<Connector> = {}): Connector => ({
  id,
  host: '127.0.0.1',
  port: 1,
  systemId: 'gw',
  password: 'pw',
  systemType: '',
  bind: 'trx',
  tps: 0,
  window: 10,
  tls: false,
  dlrId: 'auto',
  onTimeout: 'reconnect',
  forwardPriority: true,
  schedule: 'forward',
  dc0: 'gsm',
  enabled: true,
  ...over,
});

export function carrierSide(
  t: Pick<TestContext, 'after'>,
  o: { maxHeld?: number; policy?: Partial<RetryPolicy>; maxPriority?: (accountId: number) => number } = {},
) {
  const h = tmpDb(t);
  const clock = new ManualClock(Date.UTC(2026, 11, 5, 12));
  const commit = new GroupCommit(h.db);
  const ledger = new Ledger(h.db);
  const outbox = new Outbox(h.db);
  const metrics = new Metrics();
  const receipts = new ReceiptService({
    commit,
    ledger,
    outbox,
    deliver: () => undefined,
    account: () => ({ dc0: 'gsm' }),
    idHint: () => 'auto',
    ttlMs: 60_000,
    metrics,
    logger: silentLogger,
    now: () => clock.wallNow(),
  });
  const links = new Map<string, FakeLink>();
  const built: FakeLink[] = [];
  const rules = new ErrorRules(undefined, { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 300_000, ...o.policy });
  const dispatcher = new Dispatcher({
    clock,
    logger: silentLogger,
    metrics,
    commit,
    ledger,
    receipts,
    rules,
    maxHeld: o.maxHeld,
    ...(o.maxPriority ? { maxPriority: o.maxPriority } : {}),
    inbound: async () => ({}),
    link: (c, hooks) => {
      const link = new FakeLink(c, hooks);
      links.set(c.id, link);
      built.push(link);
      return link;
    },
  });
  /** Stores a message routed to `connectors` (committed) and hands it over as intake does. */
  const accept = async (
    connectors: string[],
    over: { accountId?: number; validMs?: number; flag?: number; priority?: boolean; storeOnly?: boolean; dueAt?: number; text?: string } = {},
  ): Promise<number> => {
    const now = clock.wallNow();
    const pdu = encode({
      command: 'submit_sm',
      sequence_number: 1,
      source_addr: 'SHOP',
      destination_addr: '447700900001',
      registered_delivery: 1,
      priority_flag: over.flag ?? 0,
      short_message: Buffer.from(over.text ?? 'hi'),
    });
    const expiresAt = (over.dueAt ?? now) + (over.validMs ?? 3_600_000);
    const accountId = over.accountId ?? 1;
    const id = await commit.run(() =>
      ledger.insert({
        accountId,
        sourceAddr: 'SHOP',
        destAddr: '447700900001',
        registeredDelivery: 1,
        pdu,
        routeId: 1,
        connectors,
        expiresAt,
        now,
        ...(over.dueAt !== undefined ? { dueAt: over.dueAt } : {}),
      }),
    );
    if (!over.storeOnly)
      dispatcher.accept({
        id,
        accountId,
        pdu,
        connectors,
        tried: 0,
        attempts: 0,
        expiresAt,
        submittedAt: now,
        priority: over.priority ?? false,
        dueAt: over.dueAt,
      });
    return id;
  };
  /** Lets pending commits (and what they start) finish. */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { ...h, clock, commit, ledger, metrics, dispatcher, links, built, accept, settle, link: (id: string) => links.get(id)! };
}

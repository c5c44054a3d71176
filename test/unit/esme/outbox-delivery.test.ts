// OutboxDelivery through SMPP receivers (real sessions): receipts and MOs to bound receivers; TTL expiry; memory bounded by paging.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BindRegistry } from '../../../src/esme/registry.js';
import { SmppReceivers } from '../../../src/esme/smpp-receivers.js';
import { silentLogger } from '../../../src/log.js';
import { OutboxDelivery } from '../../../src/messages/outbox-delivery.js';
import { Metrics } from '../../../src/metrics.js';
import { GroupCommit } from '../../../src/store/group-commit.js';
import { Outbox } from '../../../src/store/outbox.js';
import { moRecord, receiptRecord } from '../../helpers/outbox-records.js';
import { ManualClock } from '../../helpers/clock.js';
import { waitFor } from '../../helpers/wait.js';
import { receiverPair } from '../../helpers/receiver-pair.js';
import { tmpDb } from '../../helpers/tmpdb.js';

/** The account's internal id, and how metrics name it. */
const ACME = 1;
const name = (id: number) => (id === ACME ? 'acme' : `#${id}`);

/** The account's SMPP sessions as receivers. */
const smpp = (registry = new BindRegistry()) => new SmppReceivers({ registry, metrics: new Metrics(), logger: silentLogger, name, idFormat: () => 'hex' });

test('an outbox item whose TTL runs out while its account is away is dropped, logged and counted', async (t) => {
  const { db } = tmpDb(t);
  const clock = new ManualClock();
  let wall = 1_000_000;
  const metrics = new Metrics();
  const commit = new GroupCommit(db);
  const outbox = new Outbox(db);
  const delivery = new OutboxDelivery({ clock, commit, outbox, receivers: smpp(), metrics, logger: silentLogger, now: () => wall, name });
  const [short, long] = await Promise.all([
    commit.run(() => outbox.add(ACME, moRecord('VOTE A'), wall, 1_000)),
    commit.run(() => outbox.add(ACME, moRecord('VOTE A'), wall, 60_000)),
  ]);
  delivery.enqueue([short, long]);
  assert.equal(delivery.size, 2, 'waiting: nobody is bound');
  wall += 5_000;
  delivery.sweep();
  await commit.run(() => undefined); // the removal's commit
  assert.equal(delivery.size, 1);
  assert.deepEqual(
    outbox.all().map((i) => i.id),
    [long.id],
    'the expired item left the table, the other stays',
  );
  const text = await metrics.registry.metrics();
  assert.match(text, /smppgw_outbox_expired_total\{account="acme",kind="mo"\} 1/);
});

// Paging: at most maxInMemory items per account in memory, the rest read from the table.

test('an account holds at most maxInMemory items; the rest wait in the table and are all delivered once, in order, when it binds', async (t) => {
  const { db } = tmpDb(t);
  const clock = new ManualClock();
  const commit = new GroupCommit(db);
  const outbox = new Outbox(db);
  const registry = new BindRegistry((account) => receivers.available(account));
  const receivers = smpp(registry);
  const delivery = new OutboxDelivery({ clock, commit, outbox, receivers, metrics: new Metrics(), logger: silentLogger, maxInMemory: 5, name });
  for (let n = 0; n < 23; n++) delivery.enqueue([await commit.run(() => outbox.add(ACME, moRecord(`MO ${n}`), Date.now(), 60_000))]);
  assert.equal(delivery.size, 5, 'only a page in memory');
  assert.deepEqual(delivery.countByAccount(), { acme: 23 });
  assert.equal(outbox.all().length, 23);

  const { got, bound } = await receiverPair(t, registry, ACME);
  await bound;
  await waitFor(() => outbox.all().length === 0, 'every item delivered and removed');
  assert.deepEqual(
    got,
    Array.from({ length: 23 }, (_, n) => `MO ${n}`),
    'each once, oldest first',
  );
  assert.equal(delivery.size, 0);
  assert.deepEqual(delivery.countByAccount(), {});
});

test('resume() reads one page per account and counts everything the table holds', async (t) => {
  const { db } = tmpDb(t);
  const commit = new GroupCommit(db);
  const outbox = new Outbox(db);
  await Promise.all(Array.from({ length: 12 }, (_, i) => commit.run(() => outbox.add(i < 9 ? 11 : 12, receiptRecord(i), Date.now(), 60_000))));
  const delivery = new OutboxDelivery({
    clock: new ManualClock(),
    commit,
    outbox,
    receivers: smpp(),
    metrics: new Metrics(),
    logger: silentLogger,
    maxInMemory: 4,
    name: (id) => `a${id - 10}`,
  });
  assert.equal(delivery.resume(), 12);
  assert.equal(delivery.size, 4 + 3);
  assert.deepEqual(delivery.countByAccount(), { a1: 9, a2: 3 });
});

test('items that expire while only the table holds them are removed by sweep(), counted and logged once per account', async (t) => {
  const { db } = tmpDb(t);
  let wall = 1_000_000;
  const metrics = new Metrics();
  const commit = new GroupCommit(db);
  const outbox = new Outbox(db);
  const delivery = new OutboxDelivery({
    clock: new ManualClock(),
    commit,
    outbox,
    receivers: smpp(),
    metrics,
    logger: silentLogger,
    now: () => wall,
    maxInMemory: 2,
    name,
  });
  for (let i = 0; i < 7; i++) delivery.enqueue([await commit.run(() => outbox.add(ACME, receiptRecord(i), wall, 1_000))]);
  assert.equal(delivery.size, 2);
  wall += 5_000;
  delivery.sweep();
  await waitFor(() => outbox.all().length === 0, 'all seven removed');
  assert.deepEqual(delivery.countByAccount(), {});
  assert.match(await metrics.registry.metrics(), /smppgw_outbox_expired_total\{account="acme",kind="dlr"\} 7/);
});

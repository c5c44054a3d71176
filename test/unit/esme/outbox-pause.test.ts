// OutboxDelivery while the store refuses writes: nothing is delivered (a receipt delivered and not
// removed would be delivered again), and everything held goes out once sending resumes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BindRegistry } from '../../../src/esme/registry.js';
import { SmppReceivers } from '../../../src/esme/smpp-receivers.js';
import { silentLogger } from '../../../src/log.js';
import { OutboxDelivery } from '../../../src/messages/outbox-delivery.js';
import { Metrics } from '../../../src/metrics.js';
import { GroupCommit } from '../../../src/store/group-commit.js';
import { Outbox } from '../../../src/store/outbox.js';
import { moRecord } from '../../helpers/outbox-records.js';
import { ManualClock } from '../../helpers/clock.js';
import { receiverPair } from '../../helpers/receiver-pair.js';
import { tmpDb } from '../../helpers/tmpdb.js';
import { waitFor } from '../../helpers/wait.js';

/** The account's internal id. */
const ACME = 1;

test('paused, a bound receiver gets nothing; resumed, it gets every item held meanwhile, once', async (t) => {
  const { db } = tmpDb(t);
  const registry = new BindRegistry();
  const commit = new GroupCommit(db);
  const outbox = new Outbox(db);
  const receivers = new SmppReceivers({ registry, metrics: new Metrics(), logger: silentLogger, name: () => 'acme', idFormat: () => 'hex' });
  const delivery = new OutboxDelivery({
    clock: new ManualClock(),
    commit,
    outbox,
    receivers,
    metrics: new Metrics(),
    logger: silentLogger,
    name: () => 'acme',
  });
  const { got, bound } = await receiverPair(t, registry, ACME);
  await bound;
  await waitFor(() => registry.nextReceiver(ACME) !== undefined, 'receiver registered');

  const add = (text: string) => commit.run(() => outbox.add(ACME, moRecord(text), Date.now(), 60_000));
  delivery.enqueue([await add('before')]);
  await waitFor(() => got.length === 1, 'delivered while not paused');

  delivery.pauseSending(true);
  delivery.enqueue(await Promise.all(['a', 'b', 'c'].map(add)));
  delivery.pump(ACME); // a bind would call this
  // Many round trips' time on loopback: anything sent would have arrived.
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(got, ['before'], 'nothing delivered while paused');
  assert.equal(delivery.size, 3, 'held in memory (and in the table)');

  delivery.pauseSending(false);
  await waitFor(() => got.length === 4, 'delivered after resuming');
  assert.deepEqual(got, ['before', 'a', 'b', 'c']);
  await waitFor(() => outbox.all().length === 0, 'removed once delivered');
});

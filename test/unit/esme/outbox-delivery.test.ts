import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutboxDelivery } from '../../../src/esme/outbox-delivery.js';
import { BindRegistry } from '../../../src/esme/registry.js';
import { silentLogger } from '../../../src/log.js';
import { Metrics } from '../../../src/metrics.js';
import { encode } from '../../../src/smpp/codec.js';
import { GroupCommit } from '../../../src/store/group-commit.js';
import { Outbox } from '../../../src/store/outbox.js';
import { ManualClock } from '../../helpers/clock.js';
import { tmpDb } from '../../helpers/tmpdb.js';

test('an outbox item whose TTL runs out while its account is away is dropped, logged and counted', async (t) => {
  const { db } = tmpDb(t);
  const clock = new ManualClock();
  let wall = 1_000_000;
  const metrics = new Metrics();
  const commit = new GroupCommit(db);
  const outbox = new Outbox(db);
  const delivery = new OutboxDelivery({ clock, commit, outbox, registry: new BindRegistry(), metrics, logger: silentLogger, now: () => wall });
  const pdu = encode({ command: 'deliver_sm', sequence_number: 1, source_addr: '4917000000', destination_addr: '12345', short_message: Buffer.from('VOTE A') });
  const [short, long] = await Promise.all([
    commit.run(() => outbox.add('acme', 'mo', pdu, null, wall, 1_000)),
    commit.run(() => outbox.add('acme', 'mo', pdu, null, wall, 60_000)),
  ]);
  delivery.enqueue([short, long]);
  assert.equal(delivery.size, 2, 'waiting: nobody is bound');
  wall += 5_000;
  delivery.sweep();
  await commit.run(() => undefined); // the removal's commit
  assert.equal(delivery.size, 1);
  assert.deepEqual(outbox.all().map((i) => i.id), [long.id], 'the expired item left the table, the other stays');
  const text = await metrics.registry.metrics();
  assert.match(text, /smppgw_outbox_expired_total\{account="acme",kind="mo"\} 1/);
});

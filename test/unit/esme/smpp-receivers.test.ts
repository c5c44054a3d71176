// SMPP sessions as outbox receivers, over real sockets: items alternate between an account's bound
// sessions; a receipt reaches the ESME with the gateway's id in the account's format, rendered at
// send time; a record no deliver_sm can carry is removed instead of retried, while one whose answer
// could not be read is offered again.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { BindRegistry } from '../../../src/esme/registry.js';
import { SmppReceivers } from '../../../src/esme/smpp-receivers.js';
import { silentLogger } from '../../../src/log.js';
import { OutboxDelivery } from '../../../src/messages/outbox-delivery.js';
import { decode, encode } from '../../../src/smpp/codec.js';
import { SmppServer } from '../../../src/smpp/server.js';
import { Metrics } from '../../../src/metrics.js';
import { GroupCommit } from '../../../src/store/group-commit.js';
import { Outbox } from '../../../src/store/outbox.js';
import { ManualClock } from '../../helpers/clock.js';
import { moRecord, receiptRecord } from '../../helpers/outbox-records.js';
import { receiverPair } from '../../helpers/receiver-pair.js';
import { tmpDb } from '../../helpers/tmpdb.js';
import { waitFor } from '../../helpers/wait.js';

const ACME = 1;

async function setup(t: TestContext, receivers = 1) {
  const { db } = tmpDb(t);
  const commit = new GroupCommit(db);
  const outbox = new Outbox(db);
  const registry = new BindRegistry((account) => smpp.available(account));
  const smpp = new SmppReceivers({
    registry,
    metrics: new Metrics(),
    logger: silentLogger,
    name: () => 'acme',
    idFormat: () => 'dec',
    formatId: (row, format) => `${format}-${row * 3}`,
  });
  const delivery = new OutboxDelivery({
    clock: new ManualClock(),
    commit,
    outbox,
    receivers: smpp,
    metrics: new Metrics(),
    logger: silentLogger,
    name: () => 'acme',
  });
  const pairs = [];
  for (let i = 0; i < receivers; i++) pairs.push(await receiverPair(t, registry, ACME));
  for (const p of pairs) await p.bound;
  await waitFor(() => registry.sessions(ACME).filter((s) => s.state === 'bound_rx').length === receivers, 'receivers registered');
  const add = async (...records: Parameters<Outbox['add']>[1][]) =>
    delivery.enqueue(await Promise.all(records.map((r) => commit.run(() => outbox.add(ACME, r, Date.now(), 60_000)))));
  return { outbox, pairs, add };
}

test("items alternate between the account's bound sessions", async (t) => {
  const s = await setup(t, 2);
  await s.add(moRecord('1'), moRecord('2'), moRecord('3'), moRecord('4'));
  await waitFor(() => s.outbox.all().length === 0, 'all delivered');
  assert.deepEqual(
    s.pairs.map((p) => p.got),
    [
      ['1', '3'],
      ['2', '4'],
    ],
  );
});

test("a receipt carries the message's id rendered in the account's format when sent", async (t) => {
  const s = await setup(t);
  await s.add(receiptRecord(41, { state: 2, text: 'hello' }));
  await waitFor(() => s.pairs[0]!.got.length === 1, 'receipt delivered');
  assert.match(s.pairs[0]!.got[0]!, /^id:dec-123 sub:001 dlvrd:001 submit date:\d{10} done date:\d{10} stat:DELIVRD err:000 text:hello$/);
});

test('a record no deliver_sm can carry is removed, not retried; the next one goes', async (t) => {
  const s = await setup(t);
  await s.add(moRecord('bad', { source: { addr: 'x'.repeat(40), ton: 0, npi: 0 } }), moRecord('good'));
  await waitFor(() => s.outbox.all().length === 0, 'both gone from the table');
  assert.deepEqual(s.pairs[0]!.got, ['good']);
});

test('an answer that cannot be read is no acceptance: the item stays and is offered again', async (t) => {
  const { db } = tmpDb(t);
  const clock = new ManualClock();
  const commit = new GroupCommit(db);
  const outbox = new Outbox(db);
  const registry = new BindRegistry((account) => smpp.available(account));
  const smpp = new SmppReceivers({ registry, metrics: new Metrics(), logger: silentLogger, name: () => 'acme', idFormat: () => 'dec' });
  const delivery = new OutboxDelivery({ clock, commit, outbox, receivers: smpp, metrics: new Metrics(), logger: silentLogger, name: () => 'acme' });
  const server = new SmppServer({
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    handlers: {
      bind: (_pdu, session) => {
        registry.add(ACME, session);
        return { system_id: 'gw' };
      },
      state: (session, state) => {
        if (state === 'bound_rx') registry.bound(ACME, session);
      },
    },
  });
  const { port } = await server.listen();
  t.after(() => server.close(1_000));
  // A raw ESME: its first deliver_sm_resp carries a TLV whose length runs past the PDU; later ones are sound.
  const esme = net.connect(port, '127.0.0.1');
  t.after(() => esme.destroy());
  const got: number[] = [];
  let buffered = Buffer.alloc(0);
  esme.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 16 && buffered.length >= buffered.readUInt32BE(0)) {
      const pdu = decode(buffered);
      buffered = buffered.subarray(buffered.readUInt32BE(0));
      if (pdu.command !== 'deliver_sm') continue;
      got.push(pdu.sequence_number);
      const resp = encode({ command: 'deliver_sm_resp', sequence_number: pdu.sequence_number, message_id: '' });
      if (got.length > 1) esme.write(resp);
      else {
        // message_id '' (1 byte), then a TLV header claiming 0x2b33 bytes that are not there.
        const bad = Buffer.concat([resp, Buffer.from([0x05, 0x05, 0x2b, 0x33])]);
        bad.writeUInt32BE(bad.length, 0);
        esme.write(bad);
      }
    }
  });
  esme.write(
    encode({
      command: 'bind_receiver',
      sequence_number: 1,
      system_id: 'acme',
      password: 'x',
      system_type: '',
      interface_version: 0x34,
      addr_ton: 0,
      addr_npi: 0,
      address_range: '',
    }),
  );
  await waitFor(() => registry.sessions(ACME).some((x) => x.state === 'bound_rx'), 'bound');
  delivery.enqueue([await commit.run(() => outbox.add(ACME, receiptRecord(7, { state: 2 }), Date.now(), 60_000))]);
  await waitFor(() => got.length === 1, 'first offer');
  await waitFor(() => {
    clock.advance(1_000); // the retry's backoff
    return got.length === 2;
  }, 'offered again');
  await waitFor(() => outbox.all().length === 0, 'removed once a readable OK came');
});

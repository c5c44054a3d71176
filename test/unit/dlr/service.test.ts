// wantsReceipt (registered_delivery, SMPP 3.4 §5.2.17), and ReceiptService matching a carrier's
// receipt to the ledger across id bases, whichever of submit_sm_resp and receipt comes first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IdHint } from '../../../src/dlr/ids.js';
import { MessageState } from '../../../src/smpp/message-state.js';
import { parseReceipt } from '../../../src/dlr/receipt.js';
import { ReceiptService, wantsReceipt } from '../../../src/dlr/service.js';
import { renderDeliverSm } from '../../../src/esme/deliver-sm.js';
import { silentLogger } from '../../../src/log.js';
import { Metrics } from '../../../src/metrics.js';
import { decode, encode } from '../../../src/smpp/codec.js';
import type { PduOf } from '../../../src/smpp/pdu.js';
import { GroupCommit } from '../../../src/store/group-commit.js';
import { Ledger } from '../../../src/store/ledger.js';
import { Outbox, type OutboxItem } from '../../../src/store/outbox.js';
import { tmpDb } from '../../helpers/tmpdb.js';

const FINAL = [2, 3, 4, 5, 6, 7, 8];

test('wantsReceipt 0 (bits 0-1 = 00): never', () => {
  for (let s = 0; s <= 8; s++) assert.equal(wantsReceipt(0, s), false, String(s));
});

test('wantsReceipt 1: every final state, not ENROUTE or QUEUED', () => {
  for (const s of FINAL) assert.equal(wantsReceipt(1, s), true, String(s));
  assert.equal(wantsReceipt(1, MessageState.ENROUTE), false);
  assert.equal(wantsReceipt(1, MessageState.QUEUED), false);
});

test('wantsReceipt 2: failures only', () => {
  for (const s of FINAL) assert.equal(wantsReceipt(2, s), s !== MessageState.DELIVERED, String(s));
  assert.equal(wantsReceipt(2, MessageState.ENROUTE), false);
});

test('wantsReceipt 3 (SMPP 5.0): success only', () => {
  for (let s = 0; s <= 8; s++) assert.equal(wantsReceipt(3, s), s === MessageState.DELIVERED, String(s));
});

test('wantsReceipt: bits 2-3 (SME acknowledgements) and bit 4 (intermediate) do not change the answer', () => {
  for (const low of [0, 1, 2, 3]) {
    for (const high of [0x04, 0x08, 0x0c, 0x10, 0x1c, 0xe0]) {
      for (let s = 0; s <= 8; s++) assert.equal(wantsReceipt(low | high, s), wantsReceipt(low, s), `0x${(low | high).toString(16)} state ${s}`);
    }
  }
});

function setup(t: Parameters<typeof tmpDb>[0], hint: IdHint, registeredDelivery = 1) {
  const h = tmpDb(t);
  const commit = new GroupCommit(h.db);
  const ledger = new Ledger(h.db);
  const outbox = new Outbox(h.db);
  const delivered: OutboxItem[] = [];
  let now = 1_700_000_000_000;
  const service = new ReceiptService({
    commit,
    ledger,
    outbox,
    deliver: (items) => delivered.push(...items),
    account: () => ({ dc0: 'gsm' }),
    idHint: () => hint,
    ttlMs: 60_000,
    metrics: new Metrics(),
    logger: silentLogger,
    now: () => now,
  });
  const pdu = encode({
    command: 'submit_sm',
    sequence_number: 5,
    source_addr: 'SHOP',
    destination_addr: '447700900123',
    registered_delivery: registeredDelivery,
    short_message: Buffer.from('your code is 1234'),
  });
  const newMessage = () =>
    commit.run(() =>
      ledger.insert({
        accountId: 1,
        sourceAddr: 'SHOP',
        destAddr: '447700900123',
        registeredDelivery,
        pdu,
        routeId: 1,
        connectors: ['c1'],
        expiresAt: now + 86_400_000,
        now,
      }),
    );
  const id = newMessage();
  return { ...h, commit, ledger, outbox, delivered, service, id, newMessage, tick: (ms: number) => (now += ms) };
}

/** The account's receipt as it would read it (rendered as an SMPP receiver sends it). */
function readReceipt(item: OutboxItem) {
  const pdu = decode(encode({ ...renderDeliverSm(item, (row) => row.toString(16)), sequence_number: 1 })) as PduOf<'deliver_sm'>;
  assert.equal(pdu.command, 'deliver_sm');
  assert.equal(pdu.esm_class, 0x04);
  assert.equal(pdu.source_addr, '447700900123', 'from the handset');
  assert.equal(pdu.destination_addr, 'SHOP', 'to the sender');
  return parseReceipt(pdu)!;
}

const cases: Array<{ hint: IdHint; resp: string; receipt: string }> = [
  { hint: 'auto', resp: '0000A1B2', receipt: 'a1b2' }, // case and zeros
  { hint: 'hex', resp: '41394', receipt: 'a1b2' }, // resp decimal, receipt hex
  { hint: 'dec', resp: 'A1B2', receipt: '41394' }, // resp hex, receipt decimal
];

test('hint auto guesses no base: a receipt in the other base is parked, not matched', async (t) => {
  const s = setup(t, 'auto');
  const id = await s.id;
  await s.service.recordSent(id, 'c1', '41394');
  await s.service.onCarrierReceipt('c1', { id: 'a1b2', state: MessageState.DELIVERED, err: '000' });
  assert.equal(s.ledger.get(id)!.state, MessageState.ENROUTE);
  assert.equal(s.delivered.length, 0);
});

test('a receipt for an id a final message had goes to the newer message with that id, parked until it is sent', async (t) => {
  const s = setup(t, 'auto');
  const first = await s.id;
  await s.service.recordSent(first, 'c1', 'abc');
  await s.service.onCarrierReceipt('c1', { id: 'abc', state: MessageState.DELIVERED, err: '000' });
  assert.equal(s.ledger.get(first)!.state, MessageState.DELIVERED);
  const second = await s.newMessage();
  // The carrier reused "abc"; the second message's receipt beats its submit_sm_resp.
  await s.service.onCarrierReceipt('c1', { id: 'abc', state: MessageState.UNDELIVERABLE, err: '001' });
  assert.equal(s.ledger.get(first)!.state, MessageState.DELIVERED, 'the final message is not touched');
  await s.service.recordSent(second, 'c1', 'abc');
  assert.equal(s.ledger.get(second)!.state, MessageState.UNDELIVERABLE);
  assert.equal(s.delivered.length, 2, 'one receipt each');
});

for (const c of cases) {
  test(`receipt after submit_sm_resp: hint ${c.hint}, resp "${c.resp}", receipt "${c.receipt}" → matched and delivered to the account`, async (t) => {
    const s = setup(t, c.hint);
    const id = await s.id;
    await s.service.recordSent(id, 'c1', c.resp);
    assert.equal(s.ledger.get(id)!.state, MessageState.ENROUTE);
    s.tick(5_000);
    await s.service.onCarrierReceipt('c1', { id: c.receipt, state: MessageState.DELIVERED, err: '000' });
    assert.equal(s.ledger.get(id)!.state, MessageState.DELIVERED);
    assert.equal(s.delivered.length, 1);
    const r = readReceipt(s.delivered[0]!);
    assert.equal(r.id, id.toString(16), "the account sees the gateway's id, not the carrier's");
    assert.equal(r.state, MessageState.DELIVERED);
    assert.deepEqual(
      s.outbox.all().map((i) => i.messageId),
      [id],
      'committed to the outbox',
    );
  });
}

test('a receipt before its submit_sm_resp is parked, then applied when the resp is recorded (hint auto)', async (t) => {
  const s = setup(t, 'auto');
  const id = await s.id;
  await s.service.onCarrierReceipt('c1', { id: 'a1b2', state: MessageState.DELIVERED, err: '000' });
  assert.equal(s.delivered.length, 0);
  assert.equal(s.ledger.get(id)!.state, MessageState.QUEUED);
  await s.service.recordSent(id, 'c1', '0000A1B2');
  assert.equal(s.ledger.get(id)!.state, MessageState.DELIVERED);
  assert.equal(s.delivered.length, 1);
  assert.deepEqual(s.ledger.takeParked('c1', 'a1b2'), [], 'unparked');
});

for (const c of cases.slice(1, 3)) {
  test(`a receipt before its submit_sm_resp is applied with hint ${c.hint} (resp "${c.resp}", receipt "${c.receipt}")`, async (t) => {
    const s = setup(t, c.hint);
    const id = await s.id;
    await s.service.onCarrierReceipt('c1', { id: c.receipt, state: MessageState.DELIVERED, err: '000' });
    await s.service.recordSent(id, 'c1', c.resp);
    assert.equal(s.ledger.get(id)!.state, MessageState.DELIVERED);
    assert.equal(s.delivered.length, 1);
  });
}

test('a duplicate final receipt is not applied or delivered twice', async (t) => {
  const s = setup(t, 'auto');
  const id = await s.id;
  await s.service.recordSent(id, 'c1', 'x1');
  await s.service.onCarrierReceipt('c1', { id: 'X1', state: MessageState.DELIVERED, err: '000' });
  await s.service.onCarrierReceipt('c1', { id: 'x1', state: MessageState.UNDELIVERABLE, err: '001' });
  assert.equal(s.ledger.get(id)!.state, MessageState.DELIVERED);
  assert.equal(s.delivered.length, 1);
});

test('registered_delivery 2: a DELIVERED receipt updates the ledger but sends the account nothing', async (t) => {
  const s = setup(t, 'auto', 2);
  const id = await s.id;
  await s.service.recordSent(id, 'c1', 'q');
  await s.service.onCarrierReceipt('c1', { id: 'q', state: MessageState.DELIVERED, err: '000' });
  assert.equal(s.ledger.get(id)!.state, MessageState.DELIVERED);
  assert.deepEqual(s.delivered, []);
  assert.deepEqual(s.outbox.all(), []);
});

test('a receipt parked before this submit went out (a repeat for an earlier message with the same carrier id) is not applied to it', async (t) => {
  const s = setup(t, 'auto');
  const id = await s.id;
  // An earlier message's repeated receipt, parked under an id the carrier hands out again later.
  await s.service.onCarrierReceipt('c1', { id: 'abc', state: MessageState.DELIVERED, err: '000' });
  s.tick(5_000);
  const sentAt = 1_700_000_000_000 + 5_000;
  s.tick(20);
  // This message's own receipt, which beat its submit_sm_resp.
  await s.service.onCarrierReceipt('c1', { id: 'abc', state: MessageState.UNDELIVERABLE, err: '001' });
  await s.service.recordSent(id, 'c1', 'abc', sentAt);
  assert.equal(s.ledger.get(id)!.state, MessageState.UNDELIVERABLE, 'its own receipt, not the stale DELIVRD');
  assert.equal(s.delivered.length, 1);
  assert.deepEqual(
    s.ledger.takeParked('c1', 'abc'),
    [JSON.stringify({ id: 'abc', state: MessageState.DELIVERED, err: '000' })],
    'the stale one stays parked until pruned',
  );
});

test('a receipt whose err field is longer than an integer column takes is applied with no error code', async (t) => {
  const s = setup(t, 'auto');
  const id = await s.id;
  await s.service.recordSent(id, 'c1', 'e1');
  await s.service.onCarrierReceipt('c1', { id: 'e1', state: MessageState.UNDELIVERABLE, err: '99999999999999999999' });
  assert.equal(s.ledger.get(id)!.state, MessageState.UNDELIVERABLE);
  assert.equal(s.ledger.get(id)!.error, null);
  assert.equal(s.delivered.length, 1);
});

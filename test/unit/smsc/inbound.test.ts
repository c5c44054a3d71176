// Inbound in-process, with the real receipt service, ledger and outbox on a temp SQLite file: a
// carrier's receipt matched to its message puts the account's receipt record in the outbox; an MO
// routed to an account becomes an MO record carrying the carrier's fields and TLVs; an unrouted MO
// is refused (ESME_RINVDSTADR) and stored nowhere; an MO too large as a deliver_sm is refused.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { parseReceipt } from '../../../src/dlr/receipt.js';
import { MessageState } from '../../../src/smpp/message-state.js';
import { ReceiptService } from '../../../src/dlr/service.js';
import { renderDeliverSm } from '../../../src/esme/deliver-sm.js';
import { SmppError } from '../../../src/smpp/errors.js';
import { silentLogger } from '../../../src/log.js';
import { Metrics } from '../../../src/metrics.js';
import { MoRouter } from '../../../src/routing/mo.js';
import { encode } from '../../../src/smpp/codec.js';
import { ESME_RINVDSTADR, ESME_RINVMSGLEN } from '../../../src/smpp/defs.js';
import type { Pdu, PduInput, PduOf } from '../../../src/smpp/pdu.js';
import { Inbound, type InboundOptions } from '../../../src/smsc/inbound.js';
import { GroupCommit } from '../../../src/store/group-commit.js';
import { Ledger, type Origin } from '../../../src/store/ledger.js';
import { Outbox, type OutboxItem } from '../../../src/store/outbox.js';
import { ucs2Text } from '../../../src/text/codings.js';
import { gsmSeptets, packSeptets } from '../../../src/text/gsm.js';
import { tmpDb } from '../../helpers/tmpdb.js';

const ACME = 7;
const NOW = Date.UTC(2026, 11, 5, 8, 0);

function setup(
  t: TestContext,
  over: Partial<InboundOptions> = {},
  router = new MoRouter([{ id: 1, order: 1, account: 'acme', shortCode: '12345', keyword: null, sourcePrefix: null, connector: null }]),
) {
  const { db } = tmpDb(t);
  const commit = new GroupCommit(db);
  const ledger = new Ledger(db);
  const outbox = new Outbox(db);
  const metrics = new Metrics();
  const delivered: OutboxItem[] = [];
  const deliver = (items: OutboxItem[]) => delivered.push(...items);
  const receipts = new ReceiptService({
    commit,
    ledger,
    outbox,
    deliver,
    account: () => ({ dc0: 'gsm' }),
    idHint: () => 'auto',
    ttlMs: 60_000,
    metrics,
    logger: silentLogger,
    now: () => NOW,
  });
  const inbound = new Inbound({
    commit,
    outbox,
    receipts,
    router: () => router,
    accountId: (s) => (s === 'acme' ? ACME : undefined),
    deliver,
    metrics,
    logger: silentLogger,
    ttlMs: 60_000,
    maxPduSize: 300,
    now: () => NOW,
    ...over,
  });
  const submit = (origin: Origin) => {
    const pdu = encode({
      command: 'submit_sm',
      sequence_number: 1,
      source_addr_ton: 5,
      source_addr: 'SHOP',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900123',
      registered_delivery: 1,
      short_message: Buffer.from('your code is 123456 and more'),
    });
    return commit.run(() =>
      ledger.insert({
        accountId: ACME,
        origin,
        sourceAddr: 'SHOP',
        destAddr: '447700900123',
        registeredDelivery: 1,
        pdu,
        routeId: 1,
        connectors: ['c1'],
        expiresAt: NOW + 60_000,
        now: NOW - 60_000,
      }),
    );
  };
  return { inbound, receipts, outbox, delivered, metrics, submit };
}

/** A PDU as the codec hands it to inbound (every field present). */
const asReceived = (p: PduInput) => p as unknown as Pdu;
const deliverSm = (over: Partial<PduOf<'deliver_sm'>>) =>
  asReceived({
    command: 'deliver_sm',
    command_status: 0,
    sequence_number: 3,
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '4917000000',
    dest_addr_ton: 0,
    dest_addr_npi: 0,
    destination_addr: '12345',
    esm_class: 0,
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: 0,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: Buffer.alloc(0),
    ...over,
  } as PduInput<'deliver_sm'>);
const carrierReceipt = (id: string) =>
  deliverSm({
    esm_class: 0x04,
    short_message: Buffer.from(`id:${id} sub:001 dlvrd:001 submit date:2612050759 done date:2612050800 stat:DELIVRD err:000 text:`),
  });

test("a carrier receipt matched to its message puts the account's receipt record in the outbox", async (t) => {
  const s = setup(t);
  const row = await s.submit('smpp');
  await s.receipts.recordSent(row, 'c1', 'AB12');
  assert.deepEqual(await s.inbound.handle(carrierReceipt('ab12'), 'c1'), {});
  assert.equal(s.delivered.length, 1);
  const item = s.delivered[0]!;
  assert.deepEqual(s.outbox.all(), [item], 'committed before the carrier is answered');
  assert.deepEqual(
    [item.accountId, item.kind, item.messageId, item.source, item.destination, item.esmClass],
    [ACME, 'dlr', row, { addr: '447700900123', ton: 1, npi: 1 }, { addr: 'SHOP', ton: 5, npi: 0 }, 0x04],
  );
  assert.deepEqual(item.receipt, { state: MessageState.DELIVERED, err: '000', submittedAt: NOW - 60_000, doneAt: NOW, text: 'your code is 123456 ' });
  // The id is the gateway's, rendered when sent, in the account's format.
  const sent = parseReceipt(renderDeliverSm(item, (r) => String(r)) as PduOf<'deliver_sm'>)!;
  assert.deepEqual([sent.id, sent.state], [String(row), MessageState.DELIVERED]);
});

test('a receipt for a system message updates the ledger but puts nothing in any outbox', async (t) => {
  const s = setup(t);
  const row = await s.submit('system');
  await s.receipts.recordSent(row, 'c1', 'cd34');
  await s.inbound.handle(carrierReceipt('cd34'), 'c1');
  assert.deepEqual(s.delivered, []);
  assert.deepEqual(s.outbox.all(), []);
});

test("an MO routed to an account becomes an MO record with the carrier's fields and TLVs (copied, not views)", async (t) => {
  const s = setup(t);
  const text = Buffer.from('VOTE A');
  const tlvValue = Buffer.from([0x1f, 0x90]);
  const mo = deliverSm({
    service_type: 'CMT',
    dest_addr_ton: 3,
    protocol_id: 0x7f,
    priority_flag: 1,
    data_coding: 0x03,
    short_message: text,
    tlvs: [{ tag: 0x020a, value: tlvValue }],
  });
  assert.deepEqual(await s.inbound.handle(mo, 'c1'), {});
  text.fill(0);
  tlvValue.fill(0);
  const [item] = s.outbox.all();
  assert.ok(item);
  assert.deepEqual(
    s.delivered.map((i) => i.id),
    [item.id],
  );
  assert.deepEqual(
    [
      item.accountId,
      item.kind,
      item.source,
      item.destination,
      item.serviceType,
      item.protocolId,
      item.priorityFlag,
      item.dataCoding,
      item.body.toString(),
      item.tlvs,
      item.receipt,
    ],
    [
      ACME,
      'mo',
      { addr: '4917000000', ton: 1, npi: 1 },
      { addr: '12345', ton: 3, npi: 0 },
      'CMT',
      0x7f,
      1,
      0x03,
      'VOTE A',
      [{ tag: 0x020a, value: Buffer.from([0x1f, 0x90]) }],
      null,
    ],
  );
  assert.equal(s.delivered[0]!.body.toString(), 'VOTE A', 'the record in memory is a copy too');
  assert.match(await s.metrics.registry.metrics(), /smppgw_mo_total\{result="routed"\} 1/);
});

test('a data_sm MO is stored as an MO record with its message_payload', async (t) => {
  const s = setup(t);
  const dataSm = asReceived({
    command: 'data_sm',
    command_status: 0,
    sequence_number: 4,
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '4917000000',
    dest_addr_ton: 0,
    dest_addr_npi: 0,
    destination_addr: '12345',
    esm_class: 0,
    registered_delivery: 0,
    data_coding: 0,
    tlvs: [{ tag: 0x0424, value: Buffer.from('HELP me') }],
  } as PduInput<'data_sm'>);
  assert.deepEqual(await s.inbound.handle(dataSm, 'c1'), { message_id: '' });
  const [item] = s.outbox.all();
  assert.deepEqual([item?.kind, item?.body.length, item?.tlvs], ['mo', 0, [{ tag: 0x0424, value: Buffer.from('HELP me') }]]);
});

test('an MO no route takes is refused with ESME_RINVDSTADR and stored nowhere', async (t) => {
  const s = setup(t);
  await assert.rejects(
    s.inbound.handle(deliverSm({ destination_addr: '99999', short_message: Buffer.from('hi') }), 'c1'),
    (err: unknown) => err instanceof SmppError && err.status === ESME_RINVDSTADR,
  );
  assert.deepEqual(s.outbox.all(), []);
  assert.deepEqual(s.delivered, []);
  assert.match(await s.metrics.registry.metrics(), /smppgw_mo_total\{result="unrouted"\} 1/);
});

test('an MO larger than an account may be sent as a deliver_sm is refused with ESME_RINVMSGLEN', async (t) => {
  const s = setup(t);
  const big = deliverSm({ short_message: Buffer.alloc(250, 0x41), tlvs: [{ tag: 0x1401, value: Buffer.alloc(100) }] });
  await assert.rejects(s.inbound.handle(big, 'c1'), (err: unknown) => err instanceof SmppError && err.status === ESME_RINVMSGLEN);
  assert.deepEqual(s.outbox.all(), []);
});

test('MO text through src/text: a keyword in packed GSM from a carrier that packs; recoded for an account that reads Latin-1, UCS2 where Latin-1 falls short', async (t) => {
  const router = new MoRouter([{ id: 1, order: 1, account: 'acme', shortCode: '12345', keyword: 'STOP', sourcePrefix: null, connector: null }]);
  const s = setup(t, { dc0: { account: () => 'latin1', connector: (c) => (c === 'packs' ? 'gsm-packed' : 'gsm') } }, router);
  await s.inbound.handle(deliverSm({ short_message: packSeptets(gsmSeptets('STOP please')!) }), 'packs');
  await s.inbound.handle(deliverSm({ short_message: Buffer.from(gsmSeptets('STOP à 5€')!) }), 'plain');
  const [a, b] = s.outbox.all();
  assert.deepEqual([a!.dataCoding, a!.body.toString('latin1')], [0, 'STOP please']);
  assert.deepEqual([b!.dataCoding, ucs2Text(b!.body)], [8, 'STOP à 5€']);
});

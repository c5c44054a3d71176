// A receipt's text: field read through src/text: the first 20 characters of the decoded message
// (after any UDH, whatever its coding), written in the account's default alphabet, empty where
// that alphabet cannot carry them or when messages.receiptText is off.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { receiptBody } from '../../../src/dlr/receipt.js';
import { ReceiptService } from '../../../src/dlr/service.js';
import { renderDeliverSm } from '../../../src/esme/deliver-sm.js';
import { silentLogger } from '../../../src/log.js';
import { Metrics } from '../../../src/metrics.js';
import { encode } from '../../../src/smpp/codec.js';
import { MessageState } from '../../../src/smpp/message-state.js';
import { GroupCommit } from '../../../src/store/group-commit.js';
import { Ledger } from '../../../src/store/ledger.js';
import { Outbox, type OutboxItem } from '../../../src/store/outbox.js';
import type { DefaultAlphabet } from '../../../src/text/codings.js';
import { ucs2Bytes } from '../../../src/text/codings.js';
import { gsmSeptets, gsmText, unpackSeptets } from '../../../src/text/gsm.js';
import { concatElement, writeUdh } from '../../../src/text/udh.js';
import { receiptRecord } from '../../helpers/outbox-records.js';
import { tmpDb } from '../../helpers/tmpdb.js';

const NOW = Date.UTC(2026, 11, 5, 9);

async function receiptFor(t: Parameters<typeof tmpDb>[0], sm: { short_message: Buffer; data_coding?: number; esm_class?: number }, receiptText = true) {
  const h = tmpDb(t);
  const commit = new GroupCommit(h.db);
  const ledger = new Ledger(h.db);
  const delivered: OutboxItem[] = [];
  const service = new ReceiptService({
    commit,
    ledger,
    outbox: new Outbox(h.db),
    deliver: (items) => delivered.push(...items),
    account: () => ({ dc0: 'gsm' }),
    receiptText,
    idHint: () => 'auto',
    ttlMs: 60_000,
    metrics: new Metrics(),
    logger: silentLogger,
    now: () => NOW,
  });
  const pdu = encode({ command: 'submit_sm', sequence_number: 1, source_addr: 'SHOP', destination_addr: '447700900123', registered_delivery: 1, ...sm });
  const row = {
    accountId: 1,
    sourceAddr: 'SHOP',
    destAddr: '447700900123',
    registeredDelivery: 1,
    pdu,
    routeId: 1,
    connectors: ['c1'],
    expiresAt: NOW + 1,
    now: NOW,
  };
  const id = await commit.run(() => ledger.insert(row));
  await service.recordFinal({ id, accountId: 1, pdu, submittedAt: NOW }, MessageState.UNDELIVERABLE, 0x0b, 'c1');
  return delivered[0]!.receipt!.text;
}

test('the text: field holds the first 20 decoded characters, after the UDH, in any coding', async (t) => {
  assert.equal(await receiptFor(t, { short_message: Buffer.from(gsmSeptets('@€{}[]~^|\\ and then some more')!) }), '@€{}[]~^|\\ and then ');
  assert.equal(await receiptFor(t, { short_message: ucs2Bytes('سلام دنیا 😀 کد شما ۱۲۳۴۵۶ است'), data_coding: 8 }), 'سلام دنیا 😀 کد شما ۱');
  const udh = writeUdh([concatElement({ ref: 1, total: 2, seq: 1 }, 8)]);
  assert.equal(await receiptFor(t, { short_message: Buffer.concat([udh, Buffer.from(gsmSeptets('Part one')!)]), esm_class: 0x40 }), 'Part one');
  assert.equal(await receiptFor(t, { short_message: Buffer.from([1, 2, 3]), data_coding: 4 }), '', 'binary: no text');
  assert.equal(await receiptFor(t, { short_message: Buffer.from(gsmSeptets('your code is 123456')!) }, false), '', 'receiptText off');
});

const body = (text: string, dc0: DefaultAlphabet) =>
  receiptBody({ id: 'ab12', state: MessageState.DELIVERED, err: '000', submittedAt: NOW, doneAt: NOW, text }, dc0).short_message;

test("the receipt is written in the account's default alphabet; a text it cannot carry is left out", () => {
  const gsm = body('5€ @home', 'gsm');
  assert.match(gsmText(gsm), /^id:ab12 sub:001 dlvrd:001 .* stat:DELIVRD err:000 text:5€ @home$/);
  assert.match(body('5€ @home', 'latin1').toString('latin1'), / text:$/, 'Latin-1 has no €');
  assert.match(body('Café', 'latin1').toString('latin1'), / text:Café$/);
  assert.match(body('Café', 'ascii').toString('latin1'), / text:$/);
  assert.match(gsmText(body('سلام', 'gsm')), / text:$/);
  const packed = body('@home', 'gsm-packed');
  assert.match(gsmText(unpackSeptets(packed)), / text:@home$/);
});

test('rendered for the account: the receipt deliver_sm carries the GSM octets', () => {
  const sm = renderDeliverSm(receiptRecord(0xab12, { text: '{ok}' }), (row) => row.toString(16), 'gsm');
  assert.equal(sm.short_message!.subarray(-6).toString('hex'), '1b286f6b1b29', '{ok} as GSM: ESC ( o k ESC )');
});

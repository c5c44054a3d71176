// A carrier's receipt or MO that the store cannot take now (disk full, locked, lost) is answered
// with a temporary status (ESME_RMSGQFUL), so the carrier sends it again later; a real fault is
// still a real fault.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReceiptService } from '../../../src/dlr/service.js';
import { SmppError } from '../../../src/smpp/errors.js';
import { silentLogger } from '../../../src/log.js';
import { Metrics } from '../../../src/metrics.js';
import type { MoRouter } from '../../../src/routing/mo.js';
import { ESME_RMSGQFUL } from '../../../src/smpp/defs.js';
import type { Pdu } from '../../../src/smpp/pdu.js';
import { Inbound } from '../../../src/smsc/inbound.js';
import { GroupCommit } from '../../../src/store/group-commit.js';
import { StoreHealth, StoreUnavailableError } from '../../../src/store/health.js';
import { Outbox } from '../../../src/store/outbox.js';
import { tmpDb } from '../../helpers/tmpdb.js';

const deliver = (esmClass: number, text: string) =>
  ({
    command: 'deliver_sm',
    command_status: 0,
    sequence_number: 7,
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '4917000000',
    dest_addr_ton: 0,
    dest_addr_npi: 0,
    destination_addr: '12345',
    esm_class: esmClass,
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: 0,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: Buffer.from(text),
  }) as unknown as Pdu;

function inbound(t: Parameters<typeof tmpDb>[0], receiptError: unknown) {
  const h = tmpDb(t);
  const commit = new GroupCommit(h.db, { health: new StoreHealth({ logger: silentLogger }) });
  const receipts = { onCarrierReceipt: () => Promise.reject(receiptError) } as unknown as ReceiptService;
  const router = { route: () => ({ account: 'acme' }) } as unknown as MoRouter;
  const inb = new Inbound({
    commit,
    outbox: new Outbox(h.db),
    receipts,
    router: () => router,
    deliver: () => undefined,
    metrics: new Metrics(),
    logger: silentLogger,
    ttlMs: 60_000,
    maxPduSize: 4096,
    accountId: () => 1,
  });
  return { inb, commit, h };
}

const RECEIPT = 'id:ab12 sub:001 dlvrd:001 submit date:2612041700 done date:2612041701 stat:DELIVRD err:000 text:hi';

test('a receipt that cannot be stored now is answered ESME_RMSGQFUL', async (t) => {
  const { inb } = inbound(t, new StoreUnavailableError('full'));
  await assert.rejects(inb.handle(deliver(0x04, RECEIPT), 'sim'), (err: unknown) => err instanceof SmppError && err.status === ESME_RMSGQFUL);
});

test('an MO that cannot be stored now (the store lost) is answered ESME_RMSGQFUL', async (t) => {
  const { inb, commit } = inbound(t, undefined);
  commit.refuse('lost');
  await assert.rejects(inb.handle(deliver(0, 'VOTE A'), 'sim'), (err: unknown) => err instanceof SmppError && err.status === ESME_RMSGQFUL);
});

test('any other failure is not dressed up as "cannot store now"', async (t) => {
  const boom = new Error('boom');
  const { inb } = inbound(t, boom);
  await assert.rejects(inb.handle(deliver(0x04, RECEIPT), 'sim'), (err: unknown) => err === boom);
});

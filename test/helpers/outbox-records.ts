// Outbox records for tests: an MO with the given text, a receipt of a ledger row.
import type { OutboxRecord, ReceiptFields } from '../../src/store/outbox.js';

export function moRecord(text: string, over: Partial<OutboxRecord> = {}): OutboxRecord {
  return {
    kind: 'mo',
    source: { addr: '4917000000', ton: 1, npi: 1 },
    destination: { addr: '12345', ton: 0, npi: 0 },
    serviceType: '',
    esmClass: 0,
    protocolId: 0,
    priorityFlag: 0,
    registeredDelivery: 0,
    dataCoding: 0,
    body: Buffer.from(text),
    tlvs: [],
    messageId: null,
    receipt: null,
    ...over,
  };
}

export function receiptRecord(messageId: number, fields: Partial<ReceiptFields> = {}): OutboxRecord {
  return {
    kind: 'dlr',
    source: { addr: '447700900123', ton: 1, npi: 1 },
    destination: { addr: 'SHOP', ton: 5, npi: 0 },
    serviceType: '',
    esmClass: 0x04,
    protocolId: 0,
    priorityFlag: 0,
    registeredDelivery: 0,
    dataCoding: 0,
    body: Buffer.alloc(0),
    tlvs: [],
    messageId,
    receipt: { state: 2, err: '000', submittedAt: 1_700_000_000_000, doneAt: 1_700_000_060_000, text: 'your code is 1234', ...fields },
  };
}

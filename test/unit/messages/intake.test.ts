// Intake in one process: a real ledger on a temp SQLite file and group commit, a manual clock, and
// a carrier side that records what it is handed. The ordered checks, what is stored, the id only
// after the commit, and system messages (charged to an account, never refused for its rate, past
// the policy).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Intake, type MessageRequest } from '../../../src/messages/intake.js';
import { Refused } from '../../../src/messages/refused.js';
import { Metrics } from '../../../src/metrics.js';
import { MtRouter } from '../../../src/routing/mt.js';
import { decode } from '../../../src/smpp/codec.js';
import type { PduOf } from '../../../src/smpp/pdu.js';
import type { Outgoing } from '../../../src/smsc/link.js';
import type { Account } from '../../../src/store/accounts.js';
import { gsmText } from '../../../src/text/gsm.js';
import { GroupCommit } from '../../../src/store/group-commit.js';
import { Ledger } from '../../../src/store/ledger.js';
import { ManualClock } from '../../helpers/clock.js';
import { tmpDb } from '../../helpers/tmpdb.js';

const T0 = Date.UTC(2026, 11, 4, 12);

function setup(t: Parameters<typeof tmpDb>[0], over: Partial<Account> = {}) {
  const h = tmpDb(t);
  const clock = new ManualClock();
  const ledger = new Ledger(h.db);
  const handed: Outgoing[] = [];
  const account: Account = {
    id: 7,
    systemId: 'acme',
    passwordHash: '',
    tps: 0,
    window: 10,
    maxBinds: 1,
    allow: [],
    bindTypes: ['trx'],
    idFormat: 'hex',
    maxPriority: 0,
    dc0: 'gsm',
    fold: false,
    maxParts: 10,
    enabled: true,
    ...over,
  };
  let routes = new MtRouter([
    { id: 1, order: 100, kind: 'static', account: null, prefix: '44', source: null, timeFrom: null, timeTo: null, connectors: [{ id: 'c1', weight: 1 }] },
  ]);
  const metrics = new Metrics();
  const intake = new Intake({
    clock,
    commit: new GroupCommit(h.db),
    ledger,
    carrier: { accept: (m) => void handed.push(m) },
    metrics,
    account: (id) => (id === account.id ? account : undefined),
    router: () => routes,
    defaultValidityMs: 3_600_000,
    maxPduSize: 400,
    now: () => T0 + clock.now(),
  });
  return { ...h, clock, ledger, handed, account, intake, metrics, setRoutes: (r: MtRouter) => (routes = r) };
}

const request = (over: Partial<MessageRequest> = {}): MessageRequest => ({
  accountId: 7,
  origin: 'smpp',
  source: { addr: 'SHOP', ton: 5, npi: 0 },
  destination: { addr: '447700900001', ton: 1, npi: 1 },
  body: Buffer.from('hello'),
  dataCoding: 0,
  esmClass: 0,
  registeredDelivery: 1,
  ...over,
});

const reason = (r: string) => (err: unknown) => err instanceof Refused && err.reason === r;

test('a message is stored, then handed to the carrier side, and its id resolves only after the commit', async (t) => {
  const { intake, ledger, handed } = setup(t);
  const pending = intake.submit(
    request({ tlvs: [{ tag: 0x1403, value: Buffer.from('x') }], protocolId: 3, serviceType: 'CMT', validityText: '000001000000000R', validUntil: T0 + 60_000 }),
  );
  assert.equal(handed.length, 0, 'nothing goes to a carrier before the commit');
  const id = await pending;
  const row = ledger.get(id)!;
  assert.deepEqual([row.accountId, row.origin, row.sourceAddr, row.destAddr, row.registeredDelivery, row.state], [7, 'smpp', 'SHOP', '447700900001', 1, 0]);
  const sm = decode(row.pdu) as PduOf<'submit_sm'>;
  assert.deepEqual(
    [sm.source_addr_ton, sm.dest_addr_npi, sm.short_message.toString(), sm.protocol_id, sm.service_type, sm.validity_period, sm.tlvs?.[0]?.tag],
    [5, 1, 'hello', 3, 'CMT', '000001000000000R', 0x1403],
  );
  assert.deepEqual(
    handed.map((m) => [m.id, m.accountId, m.origin, m.connectors, m.expiresAt]),
    [[id, 7, 'smpp', ['c1'], T0 + 60_000]],
  );
});

test('a body longer than a short_message goes in message_payload; one the sender put there stays where it was', async (t) => {
  const { intake, ledger } = setup(t, {});
  const long = Buffer.alloc(260, 0x41);
  const a = decode(ledger.get(await intake.submit(request({ body: long, dataCoding: 4 })))!.pdu) as PduOf<'submit_sm'>;
  assert.deepEqual([a.short_message.length, a.tlvs?.map((x) => [x.tag, x.value.length])], [0, [[0x0424, 260]]]);
  const tlvs = [
    { tag: 0x0424, value: Buffer.from('in payload') },
    { tag: 0x1403, value: Buffer.from('after') },
  ];
  const b = decode(ledger.get(await intake.submit(request({ body: tlvs[0]!.value, bodyInPayload: true, tlvs })))!.pdu) as PduOf<'submit_sm'>;
  assert.deepEqual([b.short_message.length, b.tlvs?.map((x) => x.tag)], [0, [0x0424, 0x1403]]);
});

test('checks in order: account enabled, rate, fields, content, policy, route, size', async (t) => {
  const s = setup(t, { tps: 1 });
  let policyCalls = 0;
  s.intake.policy = (req) => (policyCalls++, req.destination.addr.endsWith('666') ? new Refused('policy', 'opted out') : undefined);
  s.account.enabled = false;
  await assert.rejects(s.intake.submit(request()), reason('account_disabled'));
  s.account.enabled = true;
  // The one token of the second goes to a message refused for its fields: the next is throttled before its fields are read.
  await assert.rejects(s.intake.submit(request({ destination: { addr: '', ton: 0, npi: 0 } })), reason('invalid_destination'));
  await assert.rejects(s.intake.submit(request({ destination: { addr: '', ton: 0, npi: 0 } })), reason('throttled'));
  s.clock.advance(1_000);
  await assert.rejects(s.intake.submit(request({ validUntil: T0 })), reason('invalid_validity'));
  s.clock.advance(1_000);
  await assert.rejects(s.intake.submit(request({ source: { addr: 'X'.repeat(21), ton: 0, npi: 0 } })), reason('invalid_source'));
  s.clock.advance(1_000);
  const oddUcs2 = { dataCoding: 8, body: Buffer.from([0x00, 0x48, 0x00]), destination: { addr: '447700900666', ton: 1, npi: 1 } };
  await assert.rejects(s.intake.submit(request(oddUcs2)), reason('invalid_coding'));
  s.clock.advance(1_000);
  assert.equal(policyCalls, 0, 'the policy sees only well-formed messages');
  await assert.rejects(s.intake.submit(request({ destination: { addr: '447700900666', ton: 1, npi: 1 } })), reason('policy'));
  assert.equal(policyCalls, 1);
  s.clock.advance(1_000);
  await assert.rejects(s.intake.submit(request({ destination: { addr: '33612345678', ton: 1, npi: 1 } })), reason('no_route'));
  s.clock.advance(1_000);
  await assert.rejects(s.intake.submit(request({ body: Buffer.alloc(400, 0x41) })), reason('too_large'));
  assert.equal(s.handed.length, 0);
  assert.match(await s.metrics.registry.getSingleMetricAsString('smppgw_account_throttled_total'), /account="acme"\} 1/);
});

test('a system message: charged to its account and never refused for the rate, past the policy, marked system', async (t) => {
  const s = setup(t, { tps: 1 });
  s.intake.policy = () => new Refused('policy', 'everything opted out');
  const ids = [await s.intake.submit(request({ origin: 'system' })), await s.intake.submit(request({ origin: 'system' }))];
  assert.deepEqual(
    ids.map((id) => s.ledger.get(id)!.origin),
    ['system', 'system'],
  );
  assert.deepEqual(
    s.handed.map((m) => m.origin),
    ['system', 'system'],
  );
  // Two tokens spent of a one-a-second bucket: the account's own message waits two seconds.
  s.intake.policy = undefined;
  await assert.rejects(s.intake.submit(request()), reason('throttled'));
  s.clock.advance(1_500);
  await assert.rejects(s.intake.submit(request()), reason('throttled'));
  s.clock.advance(1_000);
  assert.ok((await s.intake.submit(request())) > 0);
});

test('an unknown account, and rates that change with the table', async (t) => {
  const s = setup(t, { tps: 1 });
  await assert.rejects(s.intake.submit(request({ accountId: 99 })), reason('unknown_account'));
  await s.intake.submit(request());
  await assert.rejects(s.intake.submit(request()), reason('throttled'));
  s.account.tps = 0;
  s.intake.reload([s.account]);
  await s.intake.submit(request());
});

test('priority_flag takes the priority lane only up to the account grant (max_priority)', async (t) => {
  const bulk = setup(t);
  await bulk.intake.submit(request({ priority: 3 }));
  const granted = setup(t, { maxPriority: 1 });
  await granted.intake.submit(request({ priority: 3 }));
  await granted.intake.submit(request({ priority: 0 }));
  assert.deepEqual([bulk.handed[0]!.priority, granted.handed[0]!.priority, granted.handed[1]!.priority], [false, true, false]);
});

test('a scheduled message counts its validity from its due time (a relative validity too); its due time is stored', async (t) => {
  const { intake, ledger, handed, db } = setup(t);
  // Absolute schedule one hour after T0 (YYMMDDhhmmss t nn +), relative validity of 10 minutes.
  const id = await intake.submit(request({ scheduleText: '261204130000000+', validityText: '000000001000000R', validUntil: T0 + 600_000 }));
  const due = T0 + 3_600_000;
  assert.deepEqual([handed[0]!.dueAt, handed[0]!.expiresAt], [due, due + 600_000]);
  assert.equal(db.prepare('SELECT next_at FROM messages WHERE id = ?').pluck().get(id), due);
  const plain = await intake.submit(request({ scheduleText: '' }));
  assert.deepEqual([handed[1]!.dueAt, handed[1]!.expiresAt], [undefined, T0 + 3_600_000]);
  assert.equal(ledger.get(plain)!.state, 0);
});

const rr = () =>
  new MtRouter([
    {
      id: 1,
      order: 100,
      kind: 'roundrobin',
      account: null,
      prefix: '44',
      source: null,
      timeFrom: null,
      timeTo: null,
      connectors: [
        { id: 'c1', weight: 1 },
        { id: 'c2', weight: 1 },
        { id: 'c3', weight: 1 },
      ],
    },
  ]);
const udhPart = (ref: number, total: number, seq: number, text: string) => Buffer.concat([Buffer.from([5, 0, 3, ref, total, seq]), Buffer.from(text)]);

test("parts a sender split itself stay on its first part's connectors (a round-robin route), each keeping its own id, one message in the ledger", async (t) => {
  const s = setup(t);
  s.setRoutes(rr());
  const ids: number[] = [];
  for (const seq of [1, 2, 3]) ids.push(await s.intake.submit(request({ esmClass: 0x40, body: udhPart(0x21, 3, seq, `part ${seq}`) })));
  // SAR-numbered parts of another message, interleaved with a plain message that round-robins on.
  const sar = (seq: number) => [
    { tag: 0x020c, value: Buffer.from([0x01, 0x02]) },
    { tag: 0x020e, value: Buffer.from([2]) },
    { tag: 0x020f, value: Buffer.from([seq]) },
  ];
  const s1 = await s.intake.submit(request({ tlvs: sar(1) }));
  await s.intake.submit(request());
  const s2 = await s.intake.submit(request({ tlvs: sar(2) }));
  const first = (id: number) => s.handed.find((m) => m.id === id)!.connectors[0];
  assert.equal(new Set(ids.map(first)).size, 1, 'UDH parts: one connector');
  assert.equal(first(s1), first(s2), 'SAR parts: one connector');
  assert.deepEqual(
    s.handed.filter((m) => ids.includes(m.id)).map((m) => m.msg),
    [ids[0], ids[0], ids[0]],
  );
  assert.deepEqual(
    s.ledger.partsOf(ids[0]!).map((p) => [p.id, p.msg, p.part, p.parts]),
    ids.map((id, i) => [id, ids[0], i, 3]),
  );
  assert.equal(new Set(ids).size, 3, 'each part keeps its own id (the ESME gets a receipt per part)');
  // Another destination, same reference: another message.
  const other = await s.intake.submit(request({ esmClass: 0x40, body: udhPart(0x21, 3, 1, 'x'), destination: { addr: '447700900002', ton: 1, npi: 1 } }));
  assert.deepEqual(
    s.ledger.partsOf(other).map((p) => p.id),
    [other],
  );
});

test('content refused: little-endian or odd UCS2, a header that does not parse or comes with SAR, more parts than the account may send', async (t) => {
  const s = setup(t, { maxParts: 2 });
  await assert.rejects(s.intake.submit(request({ dataCoding: 8, body: Buffer.from('Hello', 'utf16le') })), reason('invalid_coding'));
  await assert.rejects(s.intake.submit(request({ dataCoding: 8, body: Buffer.from([0xff, 0xfe, 0x48, 0x00]) })), reason('invalid_coding'));
  await assert.rejects(s.intake.submit(request({ dataCoding: 8, body: Buffer.from([0x00, 0x48, 0x00]) })), reason('invalid_coding'));
  await assert.rejects(s.intake.submit(request({ esmClass: 0x40, body: Buffer.from([0x09, 0x00, 0x03, 1]) })), reason('invalid_header'));
  await assert.rejects(
    s.intake.submit(request({ esmClass: 0x40, body: udhPart(1, 2, 1, 'x'), tlvs: [{ tag: 0x020c, value: Buffer.from([0, 1]) }] })),
    reason('invalid_header'),
  );
  await assert.rejects(s.intake.submit(request({ esmClass: 0x40, body: udhPart(1, 3, 1, 'x') })), reason('too_many_parts'));
  // A whole text: 2 × 153 GSM characters fit, one more does not; 2 × 67 UCS2 likewise.
  await s.intake.submit(request({ body: Buffer.alloc(306, 0x41), bodyInPayload: true, tlvs: [{ tag: 0x0424, value: Buffer.alloc(306, 0x41) }] }));
  await assert.rejects(
    s.intake.submit(request({ body: Buffer.alloc(307, 0x41), bodyInPayload: true, tlvs: [{ tag: 0x0424, value: Buffer.alloc(307, 0x41) }] })),
    reason('too_many_parts'),
  );
  const ucs2 = (n: number) => Buffer.from('ж'.repeat(n), 'utf16le').swap16();
  await s.intake.submit(request({ dataCoding: 8, body: ucs2(134) }));
  await assert.rejects(s.intake.submit(request({ dataCoding: 8, body: ucs2(135) })), reason('too_many_parts'));
  assert.equal(s.handed.length, 2);
});

test('folding: an account that opts in has typographic UCS2 stored as GSM; others are left as sent', async (t) => {
  const s = setup(t);
  const body = Buffer.from('It’s “on” – 5€…', 'utf16le').swap16();
  const kept = decode(s.ledger.get(await s.intake.submit(request({ dataCoding: 8, body })))!.pdu) as PduOf<'submit_sm'>;
  assert.deepEqual([kept.data_coding, kept.short_message.equals(body)], [8, true]);
  s.account.fold = true;
  const folded = decode(s.ledger.get(await s.intake.submit(request({ dataCoding: 8, body })))!.pdu) as PduOf<'submit_sm'>;
  assert.equal(folded.data_coding, 0);
  assert.equal(gsmText(folded.short_message), 'It\'s "on" - 5€...');
  // Not foldable into GSM (a Cyrillic letter): left as sent.
  const cyr = Buffer.from('It’s ж', 'utf16le').swap16();
  assert.equal((decode(s.ledger.get(await s.intake.submit(request({ dataCoding: 8, body: cyr })))!.pdu) as PduOf<'submit_sm'>).data_coding, 8);
});

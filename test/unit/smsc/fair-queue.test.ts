// A connector's queue: round-robin across accounts, the priority lane's 90 % share, parts of one
// message together; and what takes the priority lane (the flag, up to the account's grant).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '../../../src/smpp/codec.js';
import { FairQueue, PRIORITY_RUN } from '../../../src/smsc/fair-queue.js';
import type { Outgoing } from '../../../src/smsc/link.js';
import { inPriorityLane, priorityFlagOffset } from '../../../src/smsc/priority.js';

let nextId = 1;
const EMPTY = Buffer.alloc(0);
function msg(accountId: number, over: Partial<Outgoing> = {}): Outgoing {
  const id = nextId++;
  return { id, accountId, pdu: EMPTY, connectors: ['a'], tried: 0, attempts: 0, expiresAt: Infinity, submittedAt: id, ...over };
}

function take(q: FairQueue, n: number): Outgoing[] {
  const out: Outgoing[] = [];
  for (let i = 0; i < n; i++) out.push(q.shift()!);
  return out;
}

test("one account's 1,000 queued messages delay another's by a turn, not by the lot", () => {
  const q = new FairQueue();
  for (let i = 0; i < 1_000; i++) q.push(msg(1));
  take(q, 10);
  const b = msg(2);
  q.push(b);
  const next = take(q, 2);
  assert.ok(next.includes(b), "B's message is among the next two sends");
  assert.equal(q.length, 1_000 - 10 - 1);
  // Three accounts in turn, each in its own order.
  const r = new FairQueue();
  const sent = [1, 1, 1, 2, 2, 3].map((a) => msg(a));
  for (const m of sent) r.push(m);
  assert.deepEqual(
    take(r, 6).map((m) => m.accountId),
    [1, 2, 3, 1, 2, 1],
  );
  assert.equal(r.shift(), undefined);
});

test('while both lanes wait, priority gets 90 % of the sends and normal 10 %; alone, either gets them all', () => {
  const q = new FairQueue();
  for (let i = 0; i < 500; i++) q.push(msg(1));
  for (let i = 0; i < 500; i++) q.push(msg(2, { priority: true }));
  for (let window = 0; window < 40; window++) {
    const ten = take(q, PRIORITY_RUN + 1);
    assert.equal(ten.filter((m) => m.priority).length, 9, `window ${window}: 9 of 10 priority`);
  }
  const alone = new FairQueue();
  for (let i = 0; i < 20; i++) alone.push(msg(1));
  assert.equal(take(alone, 20).length, 20);
  const onlyPriority = new FairQueue();
  for (let i = 0; i < 20; i++) onlyPriority.push(msg(1, { priority: true }));
  assert.ok(take(onlyPriority, 20).every((m) => m.priority));
});

test('the parts of one message go out one after another, across turns and lanes', () => {
  const q = new FairQueue();
  const head = nextId;
  const parts = [0, 1, 2].map(() => msg(1, { msg: head }));
  q.push(msg(1)); // a message of one part before it
  for (const p of parts) q.push(p);
  for (let i = 0; i < 3; i++) q.push(msg(2));
  const order = take(q, 7).map((m) => m.id);
  const at = order.indexOf(parts[0]!.id);
  assert.deepEqual(
    order.slice(at, at + 3),
    parts.map((p) => p.id),
    'no other account between the parts',
  );
  // A long normal message is not split by the priority lane's turn.
  const l = new FairQueue();
  for (let i = 0; i < 20; i++) l.push(msg(3, { priority: true }));
  const long = nextId;
  const normalParts = [0, 1, 2, 3].map(() => msg(4, { msg: long }));
  for (const p of normalParts) l.push(p);
  const sends = take(l, 24).map((m) => m.id);
  const first = sends.indexOf(normalParts[0]!.id);
  assert.deepEqual(
    sends.slice(first, first + 4),
    normalParts.map((p) => p.id),
  );
});

test('drain gives every message back, each account in order; the oldest per lane is its submit time', () => {
  const q = new FairQueue();
  const ms = [msg(1), msg(2, { priority: true }), msg(1), msg(2)];
  for (const m of ms) q.push(m);
  assert.equal(q.oldest(true), ms[1]!.submittedAt);
  assert.equal(q.oldest(false), ms[0]!.submittedAt);
  const all = q.drain();
  assert.deepEqual(
    all.map((m) => m.id).sort((a, b) => a - b),
    ms.map((m) => m.id),
  );
  assert.deepEqual(
    all.filter((m) => m.accountId === 1).map((m) => m.id),
    [ms[0]!.id, ms[2]!.id],
  );
  assert.equal(q.length, 0);
  assert.equal(q.oldest(false), undefined);
  q.push(ms[3]!);
  assert.equal(q.shift(), ms[3]);
});

test('priority_flag counts up to the account grant; its offset in an encoded submit_sm', () => {
  assert.deepEqual(
    [inPriorityLane(1, 0), inPriorityLane(3, 0), inPriorityLane(0, 3), inPriorityLane(3, 1), inPriorityLane(1, 1)],
    [false, false, false, true, true],
  );
  const pdu = encode({
    command: 'submit_sm',
    sequence_number: 1,
    service_type: 'CMT',
    source_addr: 'SHOP',
    destination_addr: '447700900001',
    esm_class: 0x40,
    protocol_id: 7,
    priority_flag: 2,
    short_message: Buffer.from('x'),
  });
  const at = priorityFlagOffset(pdu);
  assert.deepEqual([pdu[at - 2], pdu[at - 1], pdu[at]], [0x40, 7, 2]);
});

// The SMSC simulator on the wire: binds, message ids, receipts (format, routing, delay, retry),
// throttling, error statuses, lost responses, dropped connections, MO traffic, query_sm and client
// misbehaviour. Real TCP on 127.0.0.1; the ESME is a raw Peer (test/helpers/peer.ts) that answers
// nothing by itself. Time-dependent behaviour runs on a ManualClock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isReceipt, parseReceipt } from '../../../src/dlr/receipt.js';
import { Status, TLVS } from '../../../src/smpp/defs.js';
import type { CommandName, Pdu, PduInput } from '../../../src/smpp/pdu.js';
import { DEFAULT_ERROR_STATUSES, SmscSimulator, type SmscEvent, type SmscSimOptions } from '../../../src/sim/smsc.js';
import { parseStatWeights, parseStatus, percentiles, seededRandom, AddressRange } from '../../../src/sim/util.js';
import { ManualClock } from '../../helpers/clock.js';
import { connectPeer, guard, submit, turn, type Peer } from '../../helpers/peer.js';

const RECEIPTED_ID = TLVS.get('receipted_message_id')!.tag;
const MESSAGE_STATE = TLVS.get('message_state')!.tag;

async function startSim(t: { after(fn: () => Promise<void> | void): void }, options: SmscSimOptions = {}): Promise<{ sim: SmscSimulator; port: number }> {
  const sim = new SmscSimulator({ dlrDelayMs: 0, session: { enquireLinkMs: 0 }, ...options });
  const { port } = await sim.start();
  // Peers answer nothing, not even unbind: close them first so stop() has nothing to wait for.
  t.after(async () => {
    for (const p of openPeers) p.socket.destroy();
    openPeers.clear();
    await guard(sim.stop(), 'simulator stop', 1_000);
  });
  return { sim, port };
}

async function bound(
  _t: { after(fn: () => void): void },
  port: number,
  command: 'bind_transceiver' | 'bind_transmitter' | 'bind_receiver' = 'bind_transceiver',
  systemId = 'esme',
): Promise<Peer> {
  const peer = await connectPeer(port);
  openPeers.add(peer);
  const resp = await peer.bind(command, { system_id: systemId });
  assert.equal(resp.command_status, 0, `bind ${command}`);
  return peer;
}

const openPeers = new Set<Peer>();
let seq = 100;
function send<C extends CommandName>(peer: Peer, pdu: Omit<PduInput<C>, 'sequence_number'>): number {
  const s = ++seq;
  peer.send({ ...pdu, sequence_number: s } as PduInput);
  return s;
}

/** The next `n` PDUs, in order (Peer.next() takes one waiter at a time). */
async function take(peer: Peer, n: number, what = 'PDU'): Promise<Pdu[]> {
  const out: Pdu[] = [];
  for (let i = 0; i < n; i++) out.push(await peer.next(`${what} ${i + 1} of ${n}`));
  return out;
}

/** The next PDU of a command, answering (or collecting) nothing else on the way. */
async function nextOf(peer: Peer, command: string): Promise<Pdu> {
  for (let i = 0; i < 1000; i++) {
    const p = await peer.next(command);
    if (p.command === command) return p;
  }
  throw new Error(`no ${command}`);
}

test('bind: system_id and password checked when configured; any accepted otherwise', async (t) => {
  const { sim, port } = await startSim(t, { systemId: 'carrier', password: 'pw' });
  const p1 = await connectPeer(port);
  openPeers.add(p1);
  assert.equal((await p1.bind('bind_transceiver', { system_id: 'carrier', password: 'nope' })).command_status, Status.ESME_RINVPASWD);
  assert.equal((await p1.bind('bind_transceiver', { system_id: 'other', password: 'pw' }, 2)).command_status, Status.ESME_RINVSYSID);
  const ok = await p1.bind('bind_transceiver', { system_id: 'carrier', password: 'pw' }, 3);
  assert.deepEqual([ok.command_status, ok.command === 'bind_transceiver_resp' && ok.system_id], [0, 'SIMSMSC']);
  assert.deepEqual([sim.stats.binds, sim.stats.bindsRefused], [1, 2]);

  const { port: anyPort } = await startSim(t);
  await bound(t, anyPort, 'bind_transmitter', 'whoever');
});

test('submit_sm: hex ids from the counter; the receipt follows the response with the same id, text and TLVs', async (t) => {
  const { sim, port } = await startSim(t, { idStart: 0xabcdef0000, dlrStat: 'DELIVRD=1' });
  const events: SmscEvent[] = [];
  sim.on('event', (e: SmscEvent) => events.push(e));
  const peer = await bound(t, port);
  const s1 = send(
    peer,
    submit('hello there', {
      registered_delivery: 1,
      source_addr: 'ACME',
      source_addr_ton: 5,
      destination_addr: '4917012345678',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
    }),
  );
  const resp = await peer.next('submit_sm_resp');
  assert.equal(resp.command, 'submit_sm_resp');
  assert.equal(resp.sequence_number, s1);
  assert.equal(resp.command_status, 0);
  assert.equal(resp.command === 'submit_sm_resp' && resp.message_id, 'abcdef0000');
  const dlr = await peer.next('deliver_sm');
  assert.ok(dlr.command === 'deliver_sm');
  assert.ok(isReceipt(dlr.esm_class));
  assert.equal(dlr.esm_class, 0x04);
  assert.deepEqual([dlr.source_addr, dlr.source_addr_ton, dlr.destination_addr, dlr.dest_addr_ton], ['4917012345678', 1, 'ACME', 5]);
  const text = dlr.short_message.toString('latin1');
  assert.match(text, /^id:abcdef0000 sub:001 dlvrd:001 submit date:\d{10} done date:\d{10} stat:DELIVRD err:000 text:hello there$/);
  assert.equal(dlr.tlvs?.find((x) => x.tag === RECEIPTED_ID)?.value.toString('latin1'), 'abcdef0000\0');
  assert.deepEqual([...(dlr.tlvs?.find((x) => x.tag === MESSAGE_STATE)?.value ?? [])], [2]);
  const [, submitDate, doneDate] = /submit date:(\d+) done date:(\d+)/.exec(text)!;
  assert.deepEqual(parseReceipt(dlr), { id: 'abcdef0000', state: 2, err: '000', submitDate, doneDate });
  assert.equal(sim.stats.receiptsAcked, 0);
  peer.answer(dlr, { message_id: '' });
  await sim.until(() => sim.stats.receiptsAcked === 1, 4_000, 'receipt acked');
  const second = send(peer, submit('no receipt asked'));
  const r2 = await peer.next();
  assert.deepEqual([r2.sequence_number, r2.command === 'submit_sm_resp' && r2.message_id], [second, 'abcdef0001']);
  assert.deepEqual(await peer.sync(), [], 'no receipt without registered_delivery');
  assert.deepEqual(
    events.map((e) => `${e.type}:${'outcome' in e ? e.outcome : ''}`),
    ['bind:', 'submit:accepted', 'receipt:', 'submit:accepted'],
  );
  assert.deepEqual(
    { ...sim.summary(), uptimeMs: 0 },
    {
      ...sim.stats,
      statuses: { '0x00': 2 },
      receiptStats: { DELIVRD: 1 },
      activeBinds: 1,
      receiptsPending: 0,
      mosPending: 0,
      uptimeMs: 0,
    },
  );
});

test('ids in decimal; data_sm and submit_multi answered too (one receipt per destination)', async (t) => {
  const { sim, port } = await startSim(t, { idFormat: 'dec', idStart: 9_000_000_000 });
  const peer = await bound(t, port);
  send(peer, submit('a'));
  send(peer, {
    command: 'data_sm',
    source_addr: '1',
    destination_addr: '2',
    registered_delivery: 0,
    tlvs: [{ tag: TLVS.get('message_payload')!.tag, value: Buffer.from('payload') }],
  });
  send(peer, {
    command: 'submit_multi',
    source_addr: 'X',
    registered_delivery: 1,
    short_message: Buffer.from('multi'),
    dest_address: [
      { dest_flag: 1, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '491701' },
      { dest_flag: 1, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '491702' },
    ],
  });
  const got = [await peer.next(), await peer.next(), await peer.next()];
  assert.deepEqual(
    got.map((p) => [p.command, p.command_status, 'message_id' in p ? p.message_id : undefined]),
    [
      ['submit_sm_resp', 0, '9000000000'],
      ['data_sm_resp', 0, '9000000001'],
      ['submit_multi_resp', 0, '9000000002'],
    ],
  );
  const receipts = [await nextOf(peer, 'deliver_sm'), await nextOf(peer, 'deliver_sm')];
  assert.deepEqual(
    receipts.map((r) => r.command === 'deliver_sm' && [r.source_addr, parseReceipt(r)?.id]),
    [
      ['491701', '9000000002'],
      ['491702', '9000000002'],
    ],
  );
  assert.equal(sim.stats.receiptsCreated, 2);
});

test('--dlr-delay: the receipt waits on the clock', async (t) => {
  const clock = new ManualClock();
  const { sim, port } = await startSim(t, { clock, dlrDelayMs: 1000 });
  const peer = await bound(t, port);
  send(peer, submit('later', { registered_delivery: 1 }));
  assert.equal((await peer.next()).command, 'submit_sm_resp');
  clock.advance(999);
  assert.deepEqual(await peer.sync(), []);
  clock.advance(1);
  const dlr = await peer.next('receipt');
  assert.equal(dlr.command, 'deliver_sm');
  assert.equal(sim.stats.receiptsSent, 1);
});

test('receipts wait for a receiver of the same system_id, then go round-robin', async (t) => {
  const { sim, port } = await startSim(t);
  const tx = await bound(t, port, 'bind_transmitter', 'acme');
  for (let i = 0; i < 4; i++) send(tx, submit(`m${i}`, { registered_delivery: 1 }));
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await tx.next();
    assert.ok(r.command === 'submit_sm_resp');
    ids.push(r.message_id);
  }
  const stranger = await bound(t, port, 'bind_receiver', 'someone-else');
  await turn();
  assert.equal(sim.summary().receiptsPending, 4);
  const rx1 = await bound(t, port, 'bind_receiver', 'acme');
  const first = await take(rx1, 4, 'held receipt');
  assert.deepEqual(
    first.map((p) => p.command === 'deliver_sm' && parseReceipt(p)?.id),
    ids,
  );
  const rx2 = await bound(t, port, 'bind_transceiver', 'acme');
  for (const p of first) rx1.answer(p, { message_id: '' });
  for (let i = 0; i < 4; i++) send(tx, submit(`n${i}`, { registered_delivery: 1 }));
  await sim.until(() => sim.stats.receiptsSent === 8, 4_000, 'second batch sent');
  const a = (await rx1.sync()).filter((p) => p.command === 'deliver_sm');
  const b = (await rx2.sync()).filter((p) => p.command === 'deliver_sm');
  assert.deepEqual([a.length, b.length], [2, 2], 'round-robin over the two receivers');
  assert.deepEqual(await stranger.sync(), []);
});

test('registered_delivery 2 asks for failure receipts only', async (t) => {
  const { port: okPort } = await startSim(t, { dlrStat: 'DELIVRD=1' });
  const ok = await bound(t, okPort);
  send(ok, submit('x', { registered_delivery: 2 }));
  assert.equal((await ok.next()).command, 'submit_sm_resp');
  assert.deepEqual(await ok.sync(), []);
  const { port: failPort } = await startSim(t, { dlrStat: 'UNDELIV=1' });
  const fail = await bound(t, failPort);
  send(fail, submit('y', { registered_delivery: 2 }));
  assert.equal((await fail.next()).command, 'submit_sm_resp');
  const dlr = await fail.next();
  assert.ok(dlr.command === 'deliver_sm');
  assert.match(dlr.short_message.toString('latin1'), / dlvrd:000 .* stat:UNDELIV err:001 /);
  assert.equal(parseReceipt(dlr)?.state, 5);
});

test('--dlr-stat weights are drawn in proportion', async (t) => {
  const { sim, port } = await startSim(t, { dlrStat: 'DELIVRD=3,EXPIRED=1', random: seededRandom(7) });
  const peer = await bound(t, port);
  peer.tap = (p) => (p.command === 'deliver_sm' ? (peer.answer(p, { message_id: '' }), true) : false);
  for (let i = 0; i < 400; i++) send(peer, submit(`w${i}`, { registered_delivery: 1 }));
  await sim.until(() => sim.stats.receiptsAcked === 400, 4_000, '400 receipts');
  const { DELIVRD = 0, EXPIRED = 0 } = sim.stats.receiptStats;
  assert.equal(DELIVRD + EXPIRED, 400);
  assert.ok(DELIVRD > 250 && DELIVRD < 350, `DELIVRD ${DELIVRD}`);
});

test('--throttle: at most N submits in any second over all binds, the rest ESME_RTHROTTLED', async (t) => {
  const clock = new ManualClock();
  const { sim, port } = await startSim(t, { clock, throttle: 5 });
  const a = await bound(t, port);
  const b = await bound(t, port, 'bind_transmitter');
  for (let i = 0; i < 4; i++) send(a, submit(`a${i}`));
  for (let i = 0; i < 4; i++) send(b, submit(`b${i}`));
  const statuses = [...(await take(a, 4)), ...(await take(b, 4))].map((p) => p.command_status);
  assert.equal(statuses.filter((s) => s === 0).length, 5);
  assert.equal(statuses.filter((s) => s === Status.ESME_RTHROTTLED).length, 3);
  clock.advance(999);
  send(a, submit('still'));
  assert.equal((await a.next()).command_status, Status.ESME_RTHROTTLED);
  clock.advance(1);
  send(a, submit('again'));
  assert.equal((await a.next()).command_status, 0);
  assert.deepEqual([sim.stats.submitsOk, sim.stats.submitsThrottled, sim.stats.statuses], [6, 4, { '0x00': 6, '0x58': 4 }]);
});

test('--error-rate: the default mix of temporary and permanent statuses, or the chosen one', async (t) => {
  const { sim, port } = await startSim(t, { errorRate: 1, random: seededRandom(1) });
  const peer = await bound(t, port);
  for (let i = 0; i < 100; i++) send(peer, submit(`e${i}`, { registered_delivery: 1 }));
  const seen = new Set<number>();
  for (let i = 0; i < 100; i++) seen.add((await peer.next()).command_status);
  assert.deepEqual(
    [...seen].sort((x, y) => x - y),
    [...DEFAULT_ERROR_STATUSES].sort((x, y) => x - y),
  );
  assert.deepEqual([sim.stats.submitsFailed, sim.stats.submitsOk, sim.stats.receiptsCreated], [100, 0, 0]);
  assert.deepEqual(await peer.sync(), [], 'no receipt for a refused submit');

  const { port: p2 } = await startSim(t, { errorRate: 1, errorStatuses: [parseStatus('0x45')] });
  const peer2 = await bound(t, p2);
  send(peer2, submit('perm'));
  assert.equal((await peer2.next()).command_status, Status.ESME_RSUBMITFAIL);
});

test('--drop-rate: no response at all; stop() does not wait for the held requests', async (t) => {
  const sim = new SmscSimulator({ dlrDelayMs: 0, dropRate: 1 });
  const { port } = await sim.start();
  const peer = await bound(t, port);
  send(peer, submit('lost'));
  assert.deepEqual(await peer.sync(), []);
  assert.equal(sim.stats.submitsDropped, 1);
  const started = Date.now();
  await guard(sim.stop(5_000), 'stop with held submits', 1_500);
  assert.ok(Date.now() - started < 1_500);
  await guard(peer.closed, 'peer closed');
});

test('--disconnect-after: N submits answered, then the connection ends; the rest is never answered', async (t) => {
  const { sim, port } = await startSim(t, { disconnectAfter: 3 });
  const peer = await bound(t, port);
  const seqs = [1, 2, 3, 4, 5].map(() => seq + 1).map((_, i) => seq + 1 + i);
  peer.send(...seqs.map((s, i) => ({ ...submit(`d${i}`), sequence_number: s }) as PduInput));
  seq += 5;
  const answered: number[] = [];
  for (let i = 0; i < 10; i++) {
    try {
      answered.push((await peer.next()).sequence_number);
    } catch {
      break; // closed
    }
  }
  await guard(peer.closed, 'connection dropped');
  assert.deepEqual(answered, seqs.slice(0, 3));
  assert.deepEqual([sim.stats.disconnects, sim.stats.submitsOk, sim.stats.submitsDropped], [1, 3, 2]);
  // A new connection starts its own count.
  const again = await bound(t, port);
  send(again, submit('fresh'));
  assert.equal((await again.next()).command_status, 0);
});

test('--disconnect-mid-window: the Nth submit is taken but never answered, the connection is cut at once', async (t) => {
  const { sim, port } = await startSim(t, { disconnectAfter: 3, disconnectMidWindow: true });
  const lost: SmscEvent[] = [];
  sim.on('submit', (e: SmscEvent) => {
    if (e.type === 'submit' && e.outcome === 'lost') lost.push(e);
  });
  const peer = await bound(t, port);
  const seqs = [0, 1, 2, 3, 4].map((i) => seq + 1 + i);
  peer.send(...seqs.map((s, i) => ({ ...submit(`m${i}`, { registered_delivery: 1 }), sequence_number: s }) as PduInput));
  seq += 5;
  const answered: number[] = [];
  for (let i = 0; i < 10; i++) {
    try {
      const p = await peer.next();
      if (p.command === 'submit_sm_resp') answered.push(p.sequence_number);
    } catch {
      break; // closed
    }
  }
  await guard(peer.closed, 'connection cut');
  // Answers queued before the cut may or may not have gone out; the 3rd and later never do.
  assert.ok(
    answered.every((s) => seqs.slice(0, 2).includes(s)),
    `answered ${answered}`,
  );
  assert.equal(sim.stats.disconnects, 1);
  assert.equal(sim.stats.submitsOk, 2);
  assert.equal(sim.stats.submitsLost, 1);
  assert.equal(sim.stats.submitsDropped + sim.stats.submitsOk + sim.stats.submitsLost, sim.stats.submits);
  assert.equal(lost.length, 1);
  // The lost one was taken: its receipt (and those of the two answered) reaches the next bind.
  assert.equal(sim.stats.receiptsCreated, 3);
  const again = await bound(t, port);
  const ids = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const d = await nextOf(again, 'deliver_sm');
    assert.ok(d.command === 'deliver_sm' && isReceipt(d.esm_class));
    ids.add(parseReceipt(d)!.id);
    again.send({ command: 'deliver_sm_resp', sequence_number: d.sequence_number, message_id: '' } as PduInput);
  }
  assert.ok(lost[0]!.type === 'submit' && ids.has(lost[0]!.messageId!), 'the lost submit has its receipt');
  // Sending it again is a duplicate at the carrier.
  send(again, submit('m2', { registered_delivery: 1 }));
  assert.equal((await nextOf(again, 'submit_sm_resp')).command_status, 0);
  assert.equal(sim.stats.duplicates, 1);
});

test('--bind-failures refuses the first N binds with ESME_RBINDFAIL; --bind-fail-rate a fraction', async (t) => {
  const { sim, port } = await startSim(t, { bindFailures: 2 });
  const peer = await connectPeer(port);
  openPeers.add(peer);
  assert.equal((await peer.bind('bind_transceiver', { system_id: 'esme' })).command_status, Status.ESME_RBINDFAIL);
  assert.equal((await peer.bind('bind_transceiver', { system_id: 'esme' }, 2)).command_status, Status.ESME_RBINDFAIL);
  assert.equal((await peer.bind('bind_transceiver', { system_id: 'esme' }, 3)).command_status, 0);
  assert.deepEqual([sim.stats.binds, sim.stats.bindsRefused, sim.stats.bindsFailed], [1, 2, 2]);
  // A bind refused for its credentials is not one of the N.
  const { sim: strict, port: strictPort } = await startSim(t, { password: 'pw', bindFailures: 1 });
  const p2 = await connectPeer(strictPort);
  openPeers.add(p2);
  assert.equal((await p2.bind('bind_transceiver', { system_id: 'esme', password: 'no' })).command_status, Status.ESME_RINVPASWD);
  assert.equal((await p2.bind('bind_transceiver', { system_id: 'esme', password: 'pw' }, 2)).command_status, Status.ESME_RBINDFAIL);
  assert.equal((await p2.bind('bind_transceiver', { system_id: 'esme', password: 'pw' }, 3)).command_status, 0);
  assert.deepEqual([strict.stats.bindsRefused, strict.stats.bindsFailed], [2, 1]);

  const { sim: always, port: alwaysPort } = await startSim(t, { bindFailRate: 1 });
  const p3 = await connectPeer(alwaysPort);
  openPeers.add(p3);
  for (let i = 1; i <= 3; i++) assert.equal((await p3.bind('bind_transmitter', { system_id: 'esme' }, i)).command_status, Status.ESME_RBINDFAIL);
  assert.deepEqual([always.stats.binds, always.stats.bindsFailed], [0, 3]);
  assert.throws(() => new SmscSimulator({ bindFailRate: 2 }), /bindFailRate/);
  assert.throws(() => new SmscSimulator({ bindFailures: -1 }), /bindFailures/);
});

test('query_sm knows the messages; cancel_sm and replace_sm are refused', async (t) => {
  const { port } = await startSim(t, { idStart: 255, dlrStat: 'UNDELIV=1' });
  const peer = await bound(t, port);
  send(peer, submit('q'));
  const r = await peer.next();
  assert.ok(r.command === 'submit_sm_resp');
  send(peer, { command: 'query_sm', message_id: r.message_id, source_addr: '12345' });
  const q = await peer.next();
  assert.ok(q.command === 'query_sm_resp');
  assert.deepEqual([q.command_status, q.message_id, q.message_state, q.final_date.length], [0, 'ff', 5, 16]);
  send(peer, { command: 'query_sm', message_id: 'nope' });
  assert.equal((await peer.next()).command_status, Status.ESME_RQUERYFAIL);
  send(peer, { command: 'cancel_sm', message_id: 'ff' });
  assert.equal((await peer.next()).command_status, Status.ESME_RCANCELFAIL);
  send(peer, { command: 'replace_sm', message_id: 'ff' });
  assert.equal((await peer.next()).command_status, Status.ESME_RREPLACEFAIL);
});

test('duplicates: accepted submits counted by (source, destination, text)', async (t) => {
  const { sim, port } = await startSim(t);
  const peer = await bound(t, port);
  send(peer, submit('same'));
  send(peer, submit('same'));
  send(peer, submit('other'));
  for (let i = 0; i < 3; i++) await peer.next();
  assert.deepEqual([sim.stats.uniqueKeys, sim.stats.duplicates], [2, 1]);
  assert.equal(sim.keys.get('12345\u00004915112345678\u0000same'), 2);
});

test('a receipt not answered is sent again after the timeout; one whose receiver closes goes to another', async (t) => {
  const clock = new ManualClock();
  const { sim, port } = await startSim(t, { clock, dlrTimeoutMs: 500, retryDelayMs: 100 });
  const peer = await bound(t, port);
  send(peer, submit('retry me', { registered_delivery: 1 }));
  await peer.next('submit_sm_resp');
  const first = await peer.next('receipt');
  clock.advance(500);
  await turn();
  assert.deepEqual(await peer.sync(), []);
  clock.advance(100);
  const second = await peer.next('receipt again');
  assert.equal(second.command, 'deliver_sm');
  assert.notEqual(second.sequence_number, first.sequence_number);
  assert.equal(sim.stats.receiptsSent, 2);
  // The receiver goes away without answering: the receipt waits for the next receiver.
  peer.socket.destroy();
  await sim.until(() => sim.summary().activeBinds === 0, 4_000, 'receiver gone');
  const next = await bound(t, port, 'bind_receiver');
  const third = await next.next('receipt on the new bind');
  assert.ok(third.command === 'deliver_sm');
  assert.equal(parseReceipt(third)?.id, parseReceipt(second as Pdu & { command: 'deliver_sm' })?.id);
  next.answer(third, { message_id: '' });
  await sim.until(() => sim.stats.receiptsAcked === 1, 4_000, 'acked');
  assert.equal(sim.stats.receiptsExpired, 0);
});

test('--mo-rate: N MOs per second to bound receivers, none while nobody is bound', async (t) => {
  const clock = new ManualClock();
  const { sim, port } = await startSim(t, { clock, moRate: 20, moFrom: '4917000000..4917000009', moTo: ['12345'], moText: ['VOTE A'] });
  clock.advance(1000);
  assert.equal(sim.stats.mosCreated, 0, 'no MOs without a receiver');
  const rx = await bound(t, port, 'bind_receiver');
  const got: Pdu[] = [];
  rx.tap = (p) => {
    if (p.command !== 'deliver_sm') return false;
    got.push(p);
    rx.answer(p, { message_id: '' });
    return true;
  };
  for (let i = 0; i < 20; i++) clock.advance(50);
  await sim.until(() => sim.stats.mosAcked === 20, 4_000, '20 MOs acked');
  assert.equal(sim.stats.mosCreated, 20);
  for (const p of got) {
    assert.ok(p.command === 'deliver_sm');
    assert.equal(p.esm_class, 0);
    assert.match(p.source_addr, /^491700000\d$/);
    assert.deepEqual([p.destination_addr, p.short_message.toString('latin1'), p.data_coding], ['12345', 'VOTE A', 0]);
  }
});

test('--mo-count stops the MOs; --mo-system-id picks the receivers', async (t) => {
  const clock = new ManualClock();
  const { sim, port } = await startSim(t, { clock, moRate: 100, moCount: 3, moSystemId: 'votes' });
  const other = await bound(t, port, 'bind_receiver', 'other');
  const votes = await bound(t, port, 'bind_transceiver', 'votes');
  votes.tap = (p) => (p.command === 'deliver_sm' ? (votes.answer(p, { message_id: '' }), true) : false);
  for (let i = 0; i < 10; i++) clock.advance(100);
  await sim.until(() => sim.stats.mosAcked === 3, 4_000, '3 MOs');
  assert.equal(sim.stats.mosCreated, 3);
  assert.deepEqual(await other.sync(), []);
});

test('client misbehaviour: garbage, wrong-way commands and unknown ids do not stop the simulator', async (t) => {
  const { sim, port } = await startSim(t);
  const peer = await bound(t, port);
  peer.send({ ...submit('wrong way'), command: 'deliver_sm', sequence_number: 5 } as PduInput);
  assert.equal((await peer.next()).command_status, Status.ESME_RINVCMDID);
  peer.socket.write(Buffer.from([0, 0, 0, 16, 0x00, 0x00, 0x01, 0x99, 0, 0, 0, 0, 0, 0, 0, 9]));
  const nack = await peer.next();
  assert.deepEqual([nack.command, nack.command_status], ['generic_nack', Status.ESME_RINVCMDID]);
  peer.socket.write(Buffer.from([0, 0, 0, 3, 1, 2, 3]));
  await guard(peer.closed, 'closed on a framing error');
  const raw = await connectPeer(port);
  openPeers.add(raw);
  raw.socket.write(Buffer.alloc(64, 0xff));
  await guard(raw.closed, 'closed on garbage');
  const fine = await bound(t, port);
  send(fine, submit('still here'));
  assert.equal((await fine.next()).command_status, 0);
  // A data_sm from a 40-character address: its receipt cannot be written as a deliver_sm.
  send(fine, { command: 'data_sm', source_addr: 'a'.repeat(40), destination_addr: '491701', registered_delivery: 1 });
  assert.equal((await fine.next()).command_status, 0);
  await sim.until(() => sim.stats.receiptsExpired === 1, 4_000, 'unwritable receipt given up');
  assert.deepEqual([sim.stats.submitsOk, sim.stats.receiptsSent], [2, 1]);
  assert.deepEqual(await fine.sync(), []);
});

test('helpers: weights, statuses, address ranges, percentiles', () => {
  assert.deepEqual(parseStatWeights('DELIVRD=90,undeliv=10'), [
    { stat: 'DELIVRD', state: 2, weight: 90 },
    { stat: 'UNDELIV', state: 5, weight: 10 },
  ]);
  assert.throws(() => parseStatWeights('DELIVERED=1'), /unknown receipt stat/);
  assert.throws(() => parseStatWeights('DELIVRD=0'), /no positive weight/);
  assert.deepEqual(['0x45', '88', 'ESME_RTHROTTLED'].map(parseStatus), [0x45, 88, 0x58]);
  assert.throws(() => parseStatus('0'), /not an error status/);
  const r = new AddressRange('0049170..0049179');
  assert.deepEqual([r.size, r.at(0), r.at(9), r.at(10)], [10, '0049170', '0049179', '0049170']);
  assert.deepEqual(new AddressRange('SMPPGW').tonNpi, { ton: 5, npi: 0 });
  assert.throws(() => new AddressRange('9..1'), /backwards/);
  const v = Float64Array.from([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
  assert.deepEqual(percentiles(v, 10), { p50: 5, p95: 10, p99: 10, max: 10 });
  assert.deepEqual(percentiles(new Float64Array(0), 0), { p50: 0, p95: 0, p99: 0, max: 0 });
});

// Session under a peer that floods requests and does not read our answers: our buffered bytes stay
// bounded (reading pauses while the writer is blocked), request() waits while blocked and goes out,
// in order, once the peer reads again. Real TCP; the far end is a raw Peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '../../../src/smpp/codec.js';
import { COMMANDS } from '../../../src/smpp/defs.js';
import { Framer } from '../../../src/smpp/framer.js';
import type { Pdu } from '../../../src/smpp/pdu.js';
import { dispose, guard, sessionWithPeer, submit, tagOf } from '../../helpers/peer.js';

const FLOOD = 200_000;
const BATCH = 1_000;
const HWM = 256 * 1024;
/** The most our side may hold unsent: the high-water mark plus the answers to one read's requests. */
const BOUND = 1024 * 1024;

test('backpressure: a peer that floods submit_sm and never reads keeps our buffers bounded; request() waits, then resumes in order', async (t) => {
  let handled = 0;
  const { session, peer, ours } = await sessionWithPeer({
    role: 'smsc',
    writeHighWaterMark: HWM,
    inboundWindow: FLOOD,
    handlers: {
      bind: () => ({ system_id: 'smsc' }),
      // 64-character ids: our answers are larger than the requests, as in real life.
      request: () => (handled++, { message_id: 'm'.repeat(64) }),
    },
  });
  t.after(() => dispose(session, peer));
  assert.equal((await peer.bind('bind_transceiver')).command_status, 0);

  // Spy on our own socket (not the wire): how much it holds, when reading pauses and resumes, and
  // when each deliver_sm is handed to it.
  const events: string[] = [];
  let maxBuffered = 0;
  const deliverId = COMMANDS.get('deliver_sm')!.id;
  const framer = new Framer();
  const write = ours.write.bind(ours) as (chunk: Buffer, ...rest: unknown[]) => boolean;
  ours.write = ((chunk: Buffer, ...rest: unknown[]) => {
    framer.push(chunk, (buf, start) => {
      if (buf.readUInt32BE(start + 4) === deliverId) events.push('deliver_sm written');
    });
    const ok = write(chunk, ...rest);
    maxBuffered = Math.max(maxBuffered, ours.writableLength, session.bufferedBytes);
    return ok;
  }) as typeof ours.write;
  let onBlocked: (() => void) | undefined;
  const blocked = new Promise<void>((resolve) => (onBlocked = resolve));
  const pause = ours.pause.bind(ours);
  ours.pause = () => {
    events.push('paused');
    onBlocked?.();
    return pause();
  };
  const resume = ours.resume.bind(ours);
  ours.resume = () => {
    events.push('resumed');
    return resume();
  };

  // The peer stops reading, then floods.
  let responses = 0;
  const delivered: string[] = [];
  let allAnswered: (() => void) | undefined;
  const done = new Promise<void>((resolve) => (allAnswered = resolve));
  peer.keep = false;
  peer.tap = (pdu: Pdu) => {
    if (pdu.command === 'submit_sm_resp') responses++;
    if (pdu.command === 'deliver_sm') {
      delivered.push(tagOf(pdu));
      peer.answer(pdu, { message_id: '' });
    }
    if (responses === FLOOD && delivered.length === 3) allAnswered?.();
    return true;
  };
  peer.socket.pause();
  const template = encode({ ...submit('flood'), sequence_number: 1 });
  for (let sent = 0; sent < FLOOD; sent += BATCH) {
    const batch = Buffer.allocUnsafe(template.length * BATCH);
    for (let i = 0; i < BATCH; i++) {
      template.copy(batch, i * template.length);
      batch.writeUInt32BE(100 + sent + i, i * template.length + 12);
    }
    peer.socket.write(batch);
  }

  await guard(blocked, 'our writer to block');
  assert.equal(session.canSend, false);
  assert.ok(handled < FLOOD, `reading paused: ${handled} of ${FLOOD} requests read`);
  assert.ok(session.bufferedBytes <= BOUND, `${session.bufferedBytes} bytes buffered`);

  // Requests issued while blocked wait (nothing written) and go out in order once unblocked.
  const settled: string[] = [];
  const replies = ['D1', 'D2', 'D3'].map((tag) => session.request({ ...submit(tag), command: 'deliver_sm' }).then(() => settled.push(tag)));
  assert.equal(events.includes('deliver_sm written'), false);

  peer.socket.resume();
  await guard(done, 'every answer to reach the peer', 15_000);
  await guard(Promise.all(replies), 'the deliver_sm replies');

  assert.equal(handled, FLOOD);
  assert.equal(responses, FLOOD);
  assert.deepEqual(delivered, ['D1', 'D2', 'D3']);
  assert.deepEqual(settled, ['D1', 'D2', 'D3']);
  const firstWritten = events.indexOf('deliver_sm written');
  assert.ok(
    firstWritten > events.indexOf('resumed') && events.indexOf('resumed') > events.indexOf('paused'),
    `order of events: ${events.slice(0, 12).join(', ')}`,
  );
  assert.ok(maxBuffered <= BOUND, `at most ${maxBuffered} bytes were buffered on our side`);
  assert.equal(session.state, 'bound_trx');
});

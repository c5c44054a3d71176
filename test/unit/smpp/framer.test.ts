// The framer must hand out exactly the PDUs of the stream, in order, however TCP cuts it: at every
// single split point, in 1-byte chunks, in random chunks; PDUs inside one chunk without a copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FramingError } from '../../../src/smpp/errors.js';
import { DEFAULT_MAX_PDU_SIZE, decode, encode } from '../../../src/smpp/codec.js';
import { Framer } from '../../../src/smpp/framer.js';
import type { CommandName } from '../../../src/smpp/pdu.js';
import { ALL_COMMANDS, randomPdu, seededRandom } from '../../helpers/random-pdu.js';

interface Frame {
  buf: Buffer;
  start: number;
  length: number;
}

/** 30 PDUs of different commands; two of them larger than the 4 KiB chunks used below. */
function makeStream(seed: number): { pdus: Buffer[]; stream: Buffer } {
  const rand = seededRandom(seed);
  const pdus: Buffer[] = [];
  for (let i = 0; i < 28; i++) pdus.push(encode(randomPdu(rand, ALL_COMMANDS[(i * 7) % ALL_COMMANDS.length])));
  const big = (n: number, seq: number): Buffer => encode({ command: 'data_sm', sequence_number: seq, tlvs: [{ tag: 0x0424, value: Buffer.alloc(n, seq) }] });
  pdus.splice(5, 0, big(9000, 5));
  pdus.splice(17, 0, big(4500, 17));
  return { pdus, stream: Buffer.concat(pdus) };
}

const { pdus: PDUS, stream: STREAM } = makeStream(2026);

/** Feeds `chunks` to a fresh framer and returns the frames (as handed out, not copied). */
function frame(chunks: Buffer[], maxSize?: number): Frame[] {
  const f = new Framer(maxSize);
  const out: Frame[] = [];
  for (const c of chunks) f.push(c, (buf, start, length) => out.push({ buf, start, length }));
  assert.equal(f.buffered, 0);
  return out;
}

/** Frames must be the PDUs, byte for byte, in order. Frame views are checked before more pushes. */
function assertFrames(frames: Frame[], where: string): void {
  assert.equal(frames.length, PDUS.length, where);
  for (let i = 0; i < frames.length; i++) {
    const fr = frames[i]!;
    const want = PDUS[i]!;
    assert.equal(fr.length, want.length, `${where} frame ${i}`);
    assert.equal(fr.buf.compare(want, 0, want.length, fr.start, fr.start + fr.length), 0, `${where} frame ${i}`);
  }
}

/** Cuts STREAM at the given offsets. */
function cut(points: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, STREAM.length]) {
    chunks.push(STREAM.subarray(prev, p));
    prev = p;
  }
  return chunks;
}

test(`the stream (${PDUS.length} PDUs) cut at every single split point gives the same frames`, () => {
  assert.ok(PDUS.length === 30 && STREAM.length > 13_000, String(STREAM.length));
  for (let k = 0; k <= STREAM.length; k++) assertFrames(frame(cut([k])), `split at ${k}`);
});

test('1-byte chunks, and random multi-split patterns, give the same frames, which decode the same', () => {
  const expected = PDUS.map((p) => decode(p));
  const rand = seededRandom(99);
  const patterns: [string, number][] = [
    ['1-byte chunks', 1],
    ['chunks of 1..3', 3],
    ['chunks of 1..20', 20],
    ['chunks of 1..600', 600],
    ['chunks of 1..5000', 5000],
    ['chunks of 1..20000', 20000],
  ];
  for (const [name, maxChunk] of patterns) {
    for (let round = 0; round < (maxChunk === 1 ? 1 : 8); round++) {
      const points: number[] = [];
      for (let p = maxChunk === 1 ? 1 : 1 + Math.floor(rand() * maxChunk); p < STREAM.length; p += maxChunk === 1 ? 1 : 1 + Math.floor(rand() * maxChunk))
        points.push(p);
      const frames = frame(cut(points));
      assertFrames(frames, `${name} #${round}`);
      assert.deepEqual(
        frames.map((fr) => decode(fr.buf, fr.start)),
        expected,
        `${name} #${round}`,
      );
    }
  }
  // Empty chunks change nothing.
  assertFrames(frame(cut([0, 0, 10, 10, 10, STREAM.length, STREAM.length])), 'empty chunks');
});

test('many PDUs in one chunk are handed out in place, without a copy', () => {
  const frames = frame([STREAM]);
  assertFrames(frames, 'one chunk');
  let offset = 0;
  for (const [i, fr] of frames.entries()) {
    assert.equal(fr.buf, STREAM, `frame ${i} is the chunk itself`);
    assert.equal(fr.start, offset);
    offset += fr.length;
  }
  // Also after a PDU that spanned chunks: the rest of the completing chunk is handed out in place.
  const at = PDUS[0]!.length + 3;
  const chunk2 = Buffer.from(STREAM.subarray(at)); // its own ArrayBuffer
  const frames2 = frame([STREAM.subarray(0, at), chunk2]);
  assertFrames(frames2, 'two chunks');
  const spanning = frames2[1]!;
  assert.notEqual(spanning.buf.buffer, chunk2.buffer);
  assert.deepEqual([spanning.start, spanning.length, spanning.buf.length], [0, PDUS[1]!.length, PDUS[1]!.length]); // a copy of exactly its size
  for (const fr of frames2.slice(2)) assert.equal(fr.buf.buffer, chunk2.buffer);
});

test('a length prefix split across chunks, byte by byte', () => {
  const pdu = encode({ command: 'submit_sm', sequence_number: 3, short_message: Buffer.from('split') });
  const f = new Framer();
  const out: Buffer[] = [];
  const take = (buf: Buffer, start: number, length: number): void => void out.push(Buffer.from(buf.subarray(start, start + length)));
  f.push(pdu.subarray(0, 1), take);
  assert.equal(f.buffered, 1);
  f.push(pdu.subarray(1, 2), take);
  f.push(pdu.subarray(2, 3), take);
  assert.equal(f.buffered, 3);
  f.push(pdu.subarray(3, 4), take);
  assert.equal(f.buffered, 4);
  f.push(pdu.subarray(4, 20), take);
  assert.equal(f.buffered, 20);
  assert.equal(out.length, 0);
  // The rest, plus 2 bytes of the next PDU's prefix, then the remainder of that PDU.
  const next = encode({ command: 'enquire_link', sequence_number: 4 });
  f.push(Buffer.concat([pdu.subarray(20), next.subarray(0, 2)]), take);
  assert.deepEqual(out, [pdu]);
  assert.equal(f.buffered, 2);
  f.push(next.subarray(2), take);
  assert.deepEqual(out, [pdu, next]);
  assert.equal(f.buffered, 0);
});

function header(len: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(len, 0);
  b.writeUInt32BE(0x15, 4);
  return b;
}

test('a command_length of 0, 4, 15, 2^31 or max+1 is a FramingError, whole or split', () => {
  for (const [max, lengths] of [
    [DEFAULT_MAX_PDU_SIZE, [0, 4, 15, 2 ** 31, 0xffffffff, DEFAULT_MAX_PDU_SIZE + 1]],
    [1024, [0, 15, 1025]],
  ] as const) {
    for (const len of lengths) {
      for (const splitAt of [16, 1, 2, 3, 4]) {
        const good = encode({ command: 'enquire_link', sequence_number: 1 });
        const bytes = Buffer.concat([good, header(len)]);
        const f = new Framer(max);
        const seen: number[] = [];
        const cutAt = good.length + splitAt;
        let caught: unknown;
        try {
          f.push(bytes.subarray(0, Math.min(cutAt, bytes.length)), (_b, _s, l) => seen.push(l));
          f.push(bytes.subarray(Math.min(cutAt, bytes.length)), (_b, _s, l) => seen.push(l));
        } catch (e) {
          caught = e;
        }
        const where = `len ${len}, max ${max}, split ${splitAt}`;
        assert.ok(caught instanceof FramingError, where);
        assert.equal(caught.commandLength, len, where);
        assert.equal(caught.status, 0x02, where);
        assert.equal(caught.code, 'SMPP_FRAMING', where);
        assert.deepEqual(seen, [16], `${where}: the PDU before is still handed out`);
      }
    }
  }
  // Exactly the maximum is fine.
  const atMax = encode({ command: 'data_sm', sequence_number: 1, tlvs: [{ tag: 0x0424, value: Buffer.alloc(1024 - 16 - 10 - 4) }] });
  assert.equal(atMax.length, 1024);
  assert.equal(frame([atMax.subarray(0, 2), atMax.subarray(2)], 1024).length, 1);
  assert.equal(frame([atMax], 1024).length, 1);
  assert.equal(frame([header(16)]).length, 1);
});

test('a frame handed out in place stays valid when the handler keeps it past the push', () => {
  // The framer never writes into a chunk it was given, so views stay intact.
  const chunks = cut([100, 5000, 5001, 9000]);
  const before = chunks.map((c) => Buffer.from(c));
  const frames = frame(chunks);
  assertFrames(frames, 'kept');
  for (const [i, c] of chunks.entries()) assert.deepEqual(c, before[i]);
  const commands = frames.map((fr) => decode(fr.buf, fr.start).command);
  assert.deepEqual(
    commands,
    PDUS.map((p) => decode(p).command as CommandName),
  );
});

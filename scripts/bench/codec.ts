// submit_sm encode/decode rates: our compiled codec against the `smpp` package's PDU class.
//
// Each case has one hand-written loop per implementation (a shared `for (…) fn(i)` harness would
// see many callees and stop inlining, which taxes the faster side most). Every loop builds a fresh
// input object per operation, as a session does, and folds its output into a sink so that nothing
// can be optimised away. After a warm-up, rounds alternate which implementation goes first; the
// figure per implementation is the median over rounds, and the ratio is taken between those medians.
import { performance } from 'node:perf_hooks';
import { decode, encode } from '../../src/smpp/codec.js';
import { LONG_MESSAGE, MT, SHORT_MESSAGE, summarize, type Summary } from './common.js';
import { smpp } from './smpp-lib.js';

export type Impl = 'ours' | 'smpp';
type Loop = (n: number) => number;

function oursEncode(msg: Buffer): Loop {
  return (n) => {
    let sink = 0;
    for (let i = 1; i <= n; i++) {
      const b = encode({
        command: 'submit_sm',
        sequence_number: i,
        source_addr: MT.source_addr,
        destination_addr: MT.destination_addr,
        registered_delivery: MT.registered_delivery,
        data_coding: MT.data_coding,
        short_message: msg,
      });
      sink += b.length;
    }
    return sink;
  };
}

function smppEncode(msg: Buffer): Loop {
  return (n) => {
    let sink = 0;
    for (let i = 1; i <= n; i++) {
      const b = new smpp.PDU('submit_sm', {
        sequence_number: i,
        source_addr: MT.source_addr,
        destination_addr: MT.destination_addr,
        registered_delivery: MT.registered_delivery,
        data_coding: MT.data_coding,
        short_message: msg,
      }).toBuffer();
      sink += b.length;
    }
    return sink;
  };
}

function oursDecode(buf: Buffer): Loop {
  return (n) => {
    let sink = 0;
    for (let i = 0; i < n; i++) {
      const p = decode(buf);
      sink += p.sequence_number + (p.command === 'submit_sm' ? p.short_message.length : 0);
    }
    return sink;
  };
}

function smppDecode(buf: Buffer): Loop {
  return (n) => {
    let sink = 0;
    for (let i = 0; i < n; i++) {
      const p = new smpp.PDU(buf);
      sink += p.sequence_number + (p.short_message === undefined ? 0 : 1);
    }
    return sink;
  };
}

export interface CodecOptions {
  rounds: number;
  /** Operations per timed loop; ours runs ~30× faster, so it gets more to keep loops comparable in length. */
  counts: Record<Impl, number>;
  /** Operations per implementation and case before timing starts. */
  warmup: number;
  log?: (line: string) => void;
}

export const DEFAULT_CODEC_OPTIONS: CodecOptions = {
  rounds: 7,
  counts: { ours: 400_000, smpp: 20_000 },
  warmup: 50_000,
};

export interface CodecCaseResult {
  op: 'encode' | 'decode';
  messageBytes: number;
  pduBytes: number;
  /** ops/s per implementation: median over rounds, with the spread. */
  ours: Summary;
  smpp: Summary;
  /** ours/smpp, from the medians. */
  ratio: number;
  /** ours/smpp per round (each from two loops run back to back), for the spread. */
  roundRatios: number[];
}

export interface CodecResult {
  config: { rounds: number; counts: Record<Impl, number>; warmup: number; fields: typeof MT & { short_message: string[] } };
  cases: CodecCaseResult[];
}

/** Our output must be byte-for-byte smpp's, and each side must read the other's: else the race is meaningless. */
function crossCheck(msg: Buffer): Buffer {
  const fields = { ...MT, sequence_number: 7, short_message: msg };
  const ours = encode({ command: 'submit_sm', ...fields });
  const theirs = new smpp.PDU('submit_sm', fields).toBuffer();
  if (!ours.equals(theirs)) throw new Error(`encoders disagree:\n ours ${ours.toString('hex')}\n smpp ${theirs.toString('hex')}`);
  const d = decode(theirs);
  if (d.command !== 'submit_sm' || d.destination_addr !== MT.destination_addr || !d.short_message.equals(msg))
    throw new Error('our decoder misreads smpp output');
  const s = new smpp.PDU(ours);
  if (s.command !== 'submit_sm' || s.destination_addr !== MT.destination_addr || s.sequence_number !== 7) throw new Error('smpp misreads our output');
  return ours;
}

function time(loop: Loop, n: number): number {
  const t0 = performance.now();
  const sink = loop(n);
  const ms = performance.now() - t0;
  if (sink === -1) console.log('unreachable'); // keeps `sink` observable
  return (n / ms) * 1000;
}

export function runCodecBench(options: CodecOptions = DEFAULT_CODEC_OPTIONS): CodecResult {
  const log = options.log ?? (() => {});
  const cases: Array<{ op: 'encode' | 'decode'; msg: Buffer; pdu: Buffer; loops: Record<Impl, Loop> }> = [];
  for (const msg of [SHORT_MESSAGE, LONG_MESSAGE]) {
    const pdu = crossCheck(msg);
    cases.push({ op: 'encode', msg, pdu, loops: { ours: oursEncode(msg), smpp: smppEncode(msg) } });
    cases.push({ op: 'decode', msg, pdu, loops: { ours: oursDecode(pdu), smpp: smppDecode(pdu) } });
  }

  log(`codec: warm-up (${options.warmup} ops per implementation and case)`);
  for (const c of cases) for (const impl of ['ours', 'smpp'] as const) c.loops[impl](options.warmup);

  const samples = cases.map(() => ({ ours: [] as number[], smpp: [] as number[] }));
  for (let r = 0; r < options.rounds; r++) {
    const order: Impl[] = r % 2 === 0 ? ['ours', 'smpp'] : ['smpp', 'ours'];
    cases.forEach((c, i) => {
      for (const impl of order) samples[i]![impl].push(time(c.loops[impl], options.counts[impl]));
    });
    log(`codec: round ${r + 1}/${options.rounds} done`);
  }

  return {
    config: {
      rounds: options.rounds,
      counts: options.counts,
      warmup: options.warmup,
      fields: { ...MT, short_message: [SHORT_MESSAGE.toString('latin1'), `${LONG_MESSAGE.length} bytes`] },
    },
    cases: cases.map((c, i) => {
      const s = samples[i]!;
      const ours = summarize(s.ours);
      const theirs = summarize(s.smpp);
      return {
        op: c.op,
        messageBytes: c.msg.length,
        pduBytes: c.pdu.length,
        ours,
        smpp: theirs,
        ratio: ours.median / theirs.median,
        roundRatios: s.ours.map((x, k) => x / s.smpp[k]!),
      };
    }),
  };
}

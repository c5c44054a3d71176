// Evidence for a proposed src change: on Node 20 (V8 11.3), an object built as `{ ...pdu, extra }`
// gets a map of its own each time once the building code is optimised, so every property read in
// the compiled encoder misses its inline cache, and the maps are garbage. `{ extra, ...pdu }`, and
// passing the object through unchanged, do not. session.ts builds its encoder input the slow way on
// every request (`{ ...pdu, sequence_number }`) and every response (`{ ...init, command, sequence_number }`).
//
//   node dist/scripts/bench/spread-check.js            (add --allow-natives-syntax before the script to also count maps)
import { performance } from 'node:perf_hooks';
import { encode } from '../../src/smpp/codec.js';
import { MT, SHORT_MESSAGE, median } from './common.js';

type Input = Parameters<typeof encode>[0];

const make = () => ({
  command: 'submit_sm' as const,
  source_addr: MT.source_addr,
  destination_addr: MT.destination_addr,
  registered_delivery: MT.registered_delivery,
  data_coding: MT.data_coding,
  short_message: SHORT_MESSAGE,
});

const loops: Record<string, (n: number) => number> = {
  'literal with sequence_number': (n) => {
    let sink = 0;
    for (let i = 1; i <= n; i++) {
      sink += encode({
        command: 'submit_sm',
        sequence_number: i,
        source_addr: MT.source_addr,
        destination_addr: MT.destination_addr,
        registered_delivery: MT.registered_delivery,
        data_coding: MT.data_coding,
        short_message: SHORT_MESSAGE,
      }).length;
    }
    return sink;
  },
  '{ sequence_number, ...pdu }': (n) => {
    let sink = 0;
    for (let i = 1; i <= n; i++) sink += encode({ sequence_number: i, ...make() } as Input).length;
    return sink;
  },
  '{ ...pdu, sequence_number }  (session.ts today)': (n) => {
    let sink = 0;
    for (let i = 1; i <= n; i++) sink += encode({ ...make(), sequence_number: i } as Input).length;
    return sink;
  },
  '{ ...pdu, sequence_number }, no encode': (n) => {
    let sink = 0;
    for (let i = 1; i <= n; i++) sink += { ...make(), sequence_number: i }.sequence_number;
    return sink;
  },
};

const N = 100_000;
const ROUNDS = 7;
const results = new Map<string, number[]>();
for (const [name, loop] of Object.entries(loops)) {
  loop(N / 4);
  results.set(name, []);
}
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, loop] of Object.entries(loops)) {
    const t0 = performance.now();
    loop(N);
    results.get(name)!.push(((performance.now() - t0) * 1e6) / N);
  }
}
const base = median(results.get('literal with sequence_number')!);
console.log(`encode(submit_sm) — ns/op, median of ${ROUNDS} rounds of ${N.toLocaleString('en-US')} (node ${process.version})`);
for (const [name, xs] of results) console.log(`${median(xs).toFixed(0).padStart(7)} ns  ${(median(xs) / base).toFixed(1).padStart(5)}× literal  ${name}`);

if (process.execArgv.includes('--allow-natives-syntax')) {
  // Count distinct maps over consecutive objects from optimised code.
  const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
  for (const [name, build] of [
    ['{ ...pdu, sequence_number }', (i: number) => ({ ...make(), sequence_number: i })],
    ['{ sequence_number, ...pdu }', (i: number) => ({ sequence_number: i, ...make() })],
  ] as const) {
    let prev: object = build(0);
    let changes = 0;
    for (let i = 1; i < 100_000; i++) {
      const x = build(i);
      if (!sameMap(x, prev)) changes++;
      prev = x;
    }
    console.log(`${name}: map changed ${changes} times in 100,000 objects`);
  }
}

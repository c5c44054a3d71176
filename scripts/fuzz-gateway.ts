// The long gateway fuzz run: the engine of test/e2e/fuzz-gateway.test.ts
// (test/helpers/gateway-fuzzer/) for as many units as asked, through a real gateway process with
// the SMSC simulator and a hostile carrier behind it.
//
//   node dist/scripts/fuzz-gateway.js [--count N] [--seed S] [--sessions C] [--window W]
//                                     [--mo-every N] [--carrier-every N] [--log-level L]
//                                     [--synchronous normal|full] [--time-limit MS] [--settle MS]
//                                     [--max-rss-growth MB] [--max-rss MB] [--keep] [--skip CLASS,…]
//
// --count          units to send; default 1,000,000
// --seed           default: random (printed in the summary, so the run can be repeated)
// --sessions       ESME connections fuzzing at once; default 2
// --window         requests outstanding per connection; default 50
// --mo-every       one simulator MO per this many units; default 25 (0: none)
// --carrier-every  one hostile-carrier request per this many units; default 20 (0: none)
// --log-level      the gateway's log level; default info (debug puts more fuzzed values in the log)
// --synchronous    the gateway's store.synchronous; default normal
// --time-limit     stop sending after this many ms; default none
// --settle         after the last unit, wait this long at most for queues to empty; default 20000
// --max-rss-growth / --max-rss   memory limits in MB; defaults 150 / 600
// --keep           keep the temp dir (the gateway's database) and print its path
// --skip           look past known faults: leave out the input class that finds one, or lift the
//                  check: oversize-mt, oversize-mo, long-err, log-nel (SKIPPABLE in
//                  test/helpers/gateway-fuzzer/summary.ts)
//
// Prints one JSON summary line on stdout (progress on stderr). Exits 0 when every check held
// (see `failures` in the summary), 1 otherwise, 2 on bad arguments.
import { parseArgs } from 'node:util';
import { numberArg } from './args.js';
import { SKIPPABLE, runGatewayFuzz, type Skippable } from '../test/helpers/gateway-fuzzer/index.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string' },
    seed: { type: 'string' },
    sessions: { type: 'string' },
    window: { type: 'string' },
    'mo-every': { type: 'string' },
    'carrier-every': { type: 'string' },
    'log-level': { type: 'string' },
    synchronous: { type: 'string' },
    'time-limit': { type: 'string' },
    settle: { type: 'string' },
    'max-rss-growth': { type: 'string' },
    'max-rss': { type: 'string' },
    keep: { type: 'boolean' },
    skip: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: node dist/scripts/fuzz-gateway.js [--count N] [--seed S] [--sessions C] [--window W] [--mo-every N] [--carrier-every N]\n' +
      '         [--log-level L] [--synchronous normal|full] [--time-limit MS] [--settle MS] [--max-rss-growth MB] [--max-rss MB] [--keep] [--skip CLASS,...]\n',
  );
  process.exit(0);
}
const synchronous = values.synchronous ?? 'normal';
if (synchronous !== 'normal' && synchronous !== 'full') {
  process.stderr.write(`--synchronous: normal or full, not ${synchronous}\n`);
  process.exit(2);
}

const skip = (values.skip ?? '')
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean);
for (const x of skip) {
  if (!(SKIPPABLE as readonly string[]).includes(x)) {
    process.stderr.write(`--skip: ${x} is not one of ${SKIPPABLE.join(', ')}\n`);
    process.exit(2);
  }
}

const summary = await runGatewayFuzz({
  count: numberArg('count', values.count, 1_000_000),
  seed: numberArg('seed', values.seed, Math.floor(Math.random() * 0x100000000)) >>> 0,
  sessions: numberArg('sessions', values.sessions, 2),
  window: numberArg('window', values.window, 50),
  moEvery: numberArg('mo-every', values['mo-every'], 25),
  carrierEvery: numberArg('carrier-every', values['carrier-every'], 20),
  logLevel: values['log-level'] ?? 'info',
  synchronous,
  settleMs: numberArg('settle', values.settle, 20_000),
  maxRssGrowthMB: numberArg('max-rss-growth', values['max-rss-growth'], 150),
  maxRssMB: numberArg('max-rss', values['max-rss'], 600),
  ...(values['time-limit'] !== undefined ? { timeLimitMs: numberArg('time-limit', values['time-limit'], 0) } : {}),
  ...(values.keep ? { keepDir: true } : {}),
  skip: skip as Skippable[],
  onProgress: (line) => process.stderr.write(`${line}\n`),
});

process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(summary.failures.length === 0 ? 0 : 1);

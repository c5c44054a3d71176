// Crash-safety run: `node dist/scripts/crash.js [--kills 20] [--messages 20000] [--seed S] [--rate 400]`.
// SIGKILLs the gateway at random moments while an ESME submits with receipts; prints a JSON
// summary; exits 1 when an acked message was lost or its receipt never reached the ESME.
// Duplicates towards the carrier are the messages on the wire at each kill, so their rate follows
// kills per message: the default is a kill every ~1,000 messages (one every 2.5 s at 400 msg/s).
import { parseArgs } from 'node:util';
import { crashRun } from '../test/helpers/crash-run.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '20' },
    messages: { type: 'string', default: '20000' },
    seed: { type: 'string' },
    rate: { type: 'string', default: '400' },
    window: { type: 'string', default: '20' },
    'drain-ms': { type: 'string', default: '30000' },
  },
});
const int = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name} must be a non-negative integer\n`);
    process.exit(2);
  }
  return n;
};
const seed = values.seed !== undefined ? int('seed', values.seed) : Math.floor(Math.random() * 2 ** 31);
const summary = await crashRun({
  kills: int('kills', values.kills),
  messages: int('messages', values.messages),
  seed,
  rate: int('rate', values.rate),
  window: Math.max(1, int('window', values.window)),
  drainMs: int('drain-ms', values['drain-ms']),
  progress: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
process.exit(summary.lost > 0 || summary.receiptsMissing > 0 ? 1 : 0);

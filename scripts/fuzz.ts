// The long protocol fuzz run: the engine of test/e2e/fuzz.test.ts (test/helpers/fuzzer.ts), for as
// many PDUs as asked, against the fixture server in a child process (or a server already running).
//
//   node dist/scripts/fuzz.js [--count N] [--seed S] [--concurrency C] [--time-limit MS]
//                             [--port P [--host H]] [--replay N,N,...]
//
// --count        units (PDUs, mutated PDUs, garbage) to send; default 1,000,000
// --seed         default: random (printed in the summary, so the run can be repeated)
// --concurrency  connections at once; default 8
// --time-limit   stop after this many ms; default none
// --port/--host  fuzz that server instead of starting the fixture (no memory figures then)
// --replay       run only these connection numbers (from an anomaly) of --seed, in order
//
// Prints one JSON summary on stdout (progress on stderr). Exits 0 if the server is alive and no
// anomaly was seen, 1 otherwise.
import { parseArgs } from 'node:util';
import { numberArg } from './args.js';
import { startProtocolServer, type ChildServer } from '../test/helpers/child.js';
import { runFuzz } from '../test/helpers/fuzzer.js';
import { RawPeer } from '../test/helpers/raw-peer.js';

const MB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    count: { type: 'string' },
    seed: { type: 'string' },
    concurrency: { type: 'string' },
    'time-limit': { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    replay: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: node dist/scripts/fuzz.js [--count N] [--seed S] [--concurrency C] [--time-limit MS] [--port P [--host H]] [--replay N,N,...]\n',
  );
  process.exit(0);
}

const count = numberArg('count', values.count, 1_000_000);
const seed = numberArg('seed', values.seed, Math.floor(Math.random() * 0x100000000)) >>> 0;
const concurrency = numberArg('concurrency', values.concurrency, 8);
const timeLimitMs = values['time-limit'] !== undefined ? numberArg('time-limit', values['time-limit'], 0) : undefined;
const replay = values.replay?.split(',').map((s) => numberArg('replay', s, 0));

/** A fresh session binds and submits: the server still serves. */
async function stillServes(port: number, host: string): Promise<boolean> {
  let peer: RawPeer | undefined;
  try {
    peer = await RawPeer.connect(port, host);
    const bind = await peer.bind('test', 'secret', 'bind_transmitter', 1);
    if (bind.command_status !== 0) return false;
    const resp = await peer.request({
      command: 'submit_sm',
      sequence_number: 2,
      source_addr: '12345',
      destination_addr: '4915112345678',
      short_message: Buffer.from('after fuzz'),
    });
    return resp.command === 'submit_sm_resp' && resp.command_status === 0 && resp.sequence_number === 2;
  } catch {
    return false;
  } finally {
    peer?.destroy();
  }
}

let child: ChildServer | undefined;
let port: number;
const host = values.host ?? '127.0.0.1';
if (values.port !== undefined) {
  port = numberArg('port', values.port, 0);
} else {
  child = await startProtocolServer();
  port = child.port;
}

const mb = (bytes: number | undefined): number | null => (bytes === undefined ? null : +(bytes / MB).toFixed(1));
await child?.gc();
const before = await child?.memory();
let peakRss = before?.rss ?? 0;

const summary = await runFuzz({
  port,
  host,
  count,
  seed,
  concurrency,
  ...(timeLimitMs !== undefined ? { timeLimitMs } : {}),
  ...(replay !== undefined ? { replay } : {}),
  ...(child ? { alive: () => child!.alive } : {}),
  onProgress: (s) => {
    void child?.memory().then(
      (m) => (peakRss = Math.max(peakRss, m.rss)),
      () => {},
    );
    process.stderr.write(
      `fuzz: ${s.sent} sent, ${s.connections} connections, ${s.responses} responses, ${s.anomalyCount} anomalies, ${s.elapsedMs} ms, rss ${mb(peakRss)} MB (peak so far)\n`,
    );
  },
});

const afterRun = await child?.memory().catch(() => undefined);
await child?.gc().catch(() => false);
const after = await child?.memory().catch(() => undefined);
if (afterRun) peakRss = Math.max(peakRss, afterRun.rss);
const sessionsLeft = child ? ((await child.waitForStats((st) => st.sessions === 0, 10_000).catch(() => undefined))?.sessions ?? null) : null;
const serves = await stillServes(port, host);
const alive = child ? child.alive : serves;

const out = {
  seed,
  count,
  sent: summary.sent,
  bytes: summary.bytes,
  sentByKind: summary.sentByKind,
  connections: summary.connections,
  boundConnections: summary.boundConnections,
  closedByServer: summary.closedByServer,
  framingCloses: summary.framingCloses,
  unbindCloses: summary.unbindCloses,
  connectErrors: summary.connectErrors,
  responses: summary.responses,
  responsesByStatus: summary.responsesByStatus,
  responsesByCommand: summary.responsesByCommand,
  elapsedMs: summary.elapsedMs,
  pdusPerSecond: summary.elapsedMs > 0 ? Math.round((summary.sent * 1000) / summary.elapsedMs) : null,
  stoppedEarly: summary.stoppedEarly ?? null,
  rssBeforeMB: mb(before?.rss),
  rssAfterMB: mb(afterRun?.rss),
  rssAfterGcMB: mb(after?.rss),
  rssPeakMB: child ? mb(peakRss) : null,
  heapUsedAfterGcMB: mb(after?.heapUsed),
  sessionsLeft,
  alive,
  stillServes: serves,
  exit: child?.exit ?? null,
  anomalyCount: summary.anomalyCount,
  anomalies: summary.anomalies,
  stderr: child && !child.alive ? child.stderr : undefined,
};
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);

const ok = alive && serves && summary.anomalyCount === 0 && summary.stoppedEarly === undefined && (sessionsLeft === null || sessionsLeft === 0);
if (child?.alive) await child.stop();
process.exit(ok ? 0 : 1);

// The load generator against the SMSC simulator, over real sockets on 127.0.0.1: receipts matched
// with hex and decimal ids, throttling, error statuses, lost responses, dropped connections,
// bind failures, pacing (on a ManualClock), abort, and the two CLI commands with injected io.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { pino } from 'pino';
import { simCommand, loadCommand, type CliIo } from '../../../src/cli/sim.js';
import { loadExitCode, runLoad, type LoadOptions, type LoadSummary } from '../../../src/sim/load.js';
import { SmscSimulator, type SmscEvent, type SmscSimOptions } from '../../../src/sim/smsc.js';
import { seededRandom } from '../../../src/sim/util.js';
import { ManualClock } from '../../helpers/clock.js';
import { guard } from '../../helpers/peer.js';

type T = { after(fn: () => Promise<void> | void): void };

async function startSim(t: T, options: SmscSimOptions = {}): Promise<{ sim: SmscSimulator; port: number }> {
  const sim = new SmscSimulator({ dlrDelayMs: 0, retryDelayMs: 0, ...options });
  const { port } = await sim.start();
  t.after(() => guard(sim.stop(), 'simulator stop'));
  return { sim, port };
}

function load(port: number, o: Partial<LoadOptions> = {}): Promise<LoadSummary> {
  return guard(runLoad({ port, systemId: 'esme', password: 'pw', count: 100, timeoutMs: 3_000, ...o }), 'load run', 8_000);
}

test('1,000 messages with receipts, hex ids: all acked, every receipt matched', async (t) => {
  const { sim, port } = await startSim(t, { idStart: 0xfa0000000 });
  const ids: string[] = [];
  sim.on('submit', (e: Extract<SmscEvent, { type: 'submit' }>) => ids.push(e.messageId ?? ''));
  const s = await load(port, { count: 1000, dlr: true, window: 20 });
  assert.equal(s.ok, true, JSON.stringify(s));
  assert.deepEqual(
    [s.requested, s.sent, s.acked, s.errors, s.dlrs, s.dlrsMatched, s.dlrsUnmatched, s.dlrStats],
    [1000, 1000, 1000, {}, 1000, 1000, 0, { DELIVRD: 1000 }],
  );
  assert.equal(loadExitCode(s), 0);
  assert.ok(ids.every((id) => /^f[0-9a-f]{8}$/.test(id)) && ids.some((id) => /[a-e]/.test(id.slice(1))), 'hex ids');
  assert.equal(new Set(ids).size, 1000);
  assert.ok(s.latencyMs.p50 <= s.latencyMs.p95 && s.latencyMs.p95 <= s.latencyMs.p99 && s.latencyMs.p99 <= s.latencyMs.max);
  assert.ok(s.dlrLatencyMs !== undefined && s.elapsedMs > 0 && s.msgsPerSec > 0);
  assert.deepEqual([sim.stats.submitsOk, sim.stats.uniqueKeys, sim.stats.duplicates, sim.stats.receiptsAcked], [1000, 1000, 0, 1000]);
});

test('1,000 messages with receipts, decimal ids, over 2 transmitters + 2 receivers, mixed stats', async (t) => {
  const { sim, port } = await startSim(t, { idFormat: 'dec', idStart: 7_000_000_000, dlrStat: 'DELIVRD=90,UNDELIV=10', random: seededRandom(3) });
  const s = await load(port, { count: 1000, dlr: true, binds: 2, bindType: 'tx' });
  assert.equal(s.ok, true, JSON.stringify(s));
  assert.deepEqual([s.acked, s.dlrsMatched, s.dlrsUnmatched], [1000, 1000, 0]);
  assert.equal((s.dlrStats.DELIVRD ?? 0) + (s.dlrStats.UNDELIV ?? 0), 1000);
  assert.ok((s.dlrStats.UNDELIV ?? 0) > 50, JSON.stringify(s.dlrStats));
  assert.deepEqual(s.dlrStats, sim.stats.receiptStats);
  assert.equal(sim.stats.binds, 4);
});

test('--throttle: the load tool counts the ESME_RTHROTTLED answers (0x58) and exits 1', async (t) => {
  // The simulator's clock stands still: exactly `throttle` submits fit in its one-second window.
  const { sim, port } = await startSim(t, { clock: new ManualClock(), throttle: 100, session: { enquireLinkMs: 0, bindTimeoutMs: 0 } });
  const s = await load(port, { count: 300 });
  assert.deepEqual([s.sent, s.acked, s.errors, s.ok, loadExitCode(s)], [300, 100, { '0x58': 200 }, false, 1]);
  assert.deepEqual([sim.stats.submitsOk, sim.stats.submitsThrottled], [100, 200]);
});

test('--error-rate 1 with a permanent status: every message fails with it, no receipts are awaited', async (t) => {
  const { port } = await startSim(t, { errorRate: 1, errorStatuses: [0x45] });
  const s = await load(port, { count: 200, dlr: true, timeoutMs: 30_000 });
  assert.deepEqual([s.sent, s.acked, s.errors, s.dlrs, s.ok, loadExitCode(s)], [200, 0, { '0x45': 200 }, 0, false, 1]);
});

test('--drop-rate: the unanswered submits end as response timeouts', async (t) => {
  const { sim, port } = await startSim(t, { dropRate: 0.1, random: seededRandom(11) });
  const s = await load(port, { count: 300, window: 30, responseTimeoutMs: 150, dlr: true });
  const timeouts = s.errors.SMPP_RESPONSE_TIMEOUT ?? 0;
  assert.ok(timeouts > 0, JSON.stringify(s));
  assert.deepEqual([timeouts, s.acked, Object.keys(s.errors)], [sim.stats.submitsDropped, sim.stats.submitsOk, ['SMPP_RESPONSE_TIMEOUT']]);
  assert.equal(s.acked + timeouts, 300);
  assert.deepEqual([s.dlrsMatched, s.dlrsUnmatched, s.ok], [s.acked, 0, false]);
});

test('--disconnect-after: the load tool binds again; submits in flight count as SMPP_SESSION_CLOSED', async (t) => {
  const { sim, port } = await startSim(t, { disconnectAfter: 100 });
  const s = await load(port, { count: 500, dlr: true, reconnectDelayMs: 10 });
  const closed = s.errors.SMPP_SESSION_CLOSED ?? 0;
  assert.equal(s.sent, 500);
  assert.ok(s.reconnects >= 4, JSON.stringify(s));
  assert.ok(sim.stats.disconnects >= 4);
  assert.deepEqual([closed, s.acked, Object.keys(s.errors)], [sim.stats.submitsDropped, sim.stats.submitsOk, closed > 0 ? ['SMPP_SESSION_CLOSED'] : []]);
  assert.equal(s.acked + closed, 500);
  // Receipts of acked messages still arrive, on the new binds.
  assert.deepEqual([s.dlrsMatched, s.dlrsUnmatched], [s.acked, 0]);
  assert.equal(s.ok, closed === 0);
});

test('a receipt sent right behind the bind_resp is taken by the new bind (no ESME_RINVBNDSTS, no resend)', async (t) => {
  // Receipts are held while no receiver is bound; the bind after each dropped connection gets
  // them in the same write as its bind_resp.
  const { sim, port } = await startSim(t, { disconnectAfter: 50, retryDelayMs: 1_000 });
  const s = await load(port, { count: 200, dlr: true, reconnectDelayMs: 10 });
  assert.deepEqual([s.dlrsMatched, s.acked], [s.acked, sim.stats.submitsOk]);
  assert.equal(sim.stats.receiptsSent, sim.stats.receiptsCreated, 'every receipt taken at the first try');
});

test('a refused bind ends the run at once, nothing sent', async (t) => {
  const { port } = await startSim(t, { systemId: 'esme', password: 'right' });
  const s = await load(port, { password: 'wrong' });
  assert.deepEqual([s.sent, s.errors, s.ok], [0, { 'SMPP_BIND_FAILED 0x0e': 1 }, false]);
});

test('nothing listening: the connection error is counted after the connect timeout', async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const s = await load(port, { connectTimeoutMs: 200, reconnectDelayMs: 20 });
  assert.deepEqual([s.sent, s.errors, s.ok], [0, { ECONNREFUSED: 1 }, false]);
});

test('--rate paces the submits on the clock', async (t) => {
  const { sim, port } = await startSim(t);
  const clock = new ManualClock();
  const run = runLoad({ port, systemId: 'esme', password: '', count: 4, rate: 10, clock });
  await sim.until(() => sim.stats.submitsOk === 1, 4_000, 'first submit');
  for (let k = 2; k <= 4; k++) {
    clock.advance(99);
    await sim.until(() => sim.stats.submits === k - 1 && sim.stats.submitsOk === k - 1, 4_000, `still ${k - 1}`);
    // A submit is due every 100 ms; it cannot have gone out a millisecond early.
    assert.equal(sim.stats.submits, k - 1);
    clock.advance(1);
    await sim.until(() => sim.stats.submitsOk === k, 4_000, `submit ${k}`);
  }
  const s = await guard(run, 'paced run');
  assert.deepEqual([s.sent, s.acked, s.ok], [4, 4, true]);
});

test('abort: sending stops, the summary covers what was done', async (t) => {
  const { sim, port } = await startSim(t);
  const ac = new AbortController();
  sim.on('submit', () => {
    if (sim.stats.submits === 200) ac.abort();
  });
  const s = await load(port, { count: 1_000_000, signal: ac.signal });
  assert.ok(s.sent >= 200 && s.sent < 1_000_000, JSON.stringify(s));
  assert.deepEqual([s.acked, s.ok], [s.sent, false]);
});

test('MOs reaching the load tool are answered and counted, not matched as receipts', async (t) => {
  const clock = new ManualClock();
  const { sim, port } = await startSim(t, { clock, dlrDelayMs: 5_000, moRate: 10, moCount: 5, session: { enquireLinkMs: 0, bindTimeoutMs: 0 } });
  const run = runLoad({ port, systemId: 'esme', password: '', count: 1, dlr: true, timeoutMs: 5_000 });
  // The one receipt waits on the simulator's clock: the run stays up while the MOs come.
  await sim.until(() => sim.stats.submitsOk === 1, 4_000, 'submitted');
  for (let i = 0; i < 10; i++) clock.advance(100);
  await sim.until(() => sim.stats.mosAcked === 5, 4_000, 'MOs acked');
  clock.advance(5_000);
  const s = await guard(run, 'run');
  assert.deepEqual([s.sent, s.mos, s.dlrs, s.dlrsMatched, s.ok], [1, 5, 1, 1, true]);
});

function capture(): { io: CliIo; out: string[]; codes: number[]; logs: string[]; signals: EventEmitter; exited: Promise<number> } {
  const out: string[] = [];
  const codes: number[] = [];
  const logs: string[] = [];
  const signals = new EventEmitter();
  let onExit!: (c: number) => void;
  const exited = new Promise<number>((resolve) => (onExit = resolve));
  const io: CliIo = {
    stdout: (line) => out.push(line),
    exit: (code) => {
      codes.push(code);
      onExit(code);
    },
    logger: pino({ level: 'info' }, { write: (s: string) => void logs.push(s) }),
    signals,
  };
  return { io, out, codes, logs, signals, exited };
}

test('CLI: `sim smsc` serves until SIGTERM, then logs a summary line and exits 0; `load` prints one JSON line', async () => {
  const simIo = capture();
  await simCommand(simIo.io).parseAsync(['smsc', '--port', '0', '--host', '127.0.0.1', '--dlr-delay', '0', '--id-format', 'dec', '--stats-every', '0'], {
    from: 'user',
  });
  const ready = simIo.logs.map((l) => JSON.parse(l) as { msg: string; port?: number }).find((l) => l.msg === 'ready');
  assert.ok(ready?.port);

  const ok = capture();
  await guard(
    loadCommand(ok.io).parseAsync(['--port', String(ready.port), '--system-id', 'cli', '-n', '300', '--dlr', '--binds', '3'], { from: 'user' }),
    'load ok',
  );
  assert.equal(ok.out.length, 1);
  const summary = JSON.parse(ok.out[0]!) as LoadSummary;
  assert.deepEqual([summary.sent, summary.acked, summary.dlrsMatched, summary.ok, ok.codes], [300, 300, 300, true, [0]]);
  assert.deepEqual(Object.keys(summary).slice(0, 12), [
    'requested',
    'sent',
    'acked',
    'errors',
    'dlrs',
    'dlrsMatched',
    'dlrsUnmatched',
    'dlrStats',
    'latencyMs',
    'dlrLatencyMs',
    'elapsedMs',
    'msgsPerSec',
  ]);

  // The same text to the same number ten times: the simulator sees nine duplicates.
  const again = capture();
  await guard(
    loadCommand(again.io).parseAsync(
      ['--port', String(ready.port), '--system-id', 'cli', '-n', '10', '--text', 'same text', '--dest', '4917000001', '--response-timeout-ms', '2000'],
      { from: 'user' },
    ),
    'load again',
  );
  assert.deepEqual([again.out.length, again.codes], [1, [0]]);

  simIo.signals.emit('SIGTERM');
  assert.equal(await guard(simIo.exited, 'sim exit'), 0);
  const last = JSON.parse(simIo.logs.at(-1)!) as { msg: string; summary: { submits: number; submitsOk: number; receiptsAcked: number; duplicates: number } };
  assert.equal(last.msg, 'summary');
  assert.deepEqual([last.summary.submits, last.summary.submitsOk, last.summary.receiptsAcked, last.summary.duplicates], [310, 310, 300, 9]);
});

test('CLI: `load` exits 1 when a message fails, and rejects bad flags', async (t) => {
  const { port } = await startSim(t, { errorRate: 1, errorStatuses: [0x58] });
  const c = capture();
  await guard(loadCommand(c.io).parseAsync(['--port', String(port), '--system-id', 'x', '-n', '5'], { from: 'user' }), 'load');
  assert.deepEqual([JSON.parse(c.out[0]!).errors, c.codes], [{ '0x58': 5 }, [1]]);
  const cmd = loadCommand(capture().io)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  await assert.rejects(cmd.parseAsync(['--port', '1', '--system-id', 'x', '-n', '-3'], { from: 'user' }), /whole number/);
  const cmd2 = loadCommand(capture().io)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  await assert.rejects(cmd2.parseAsync(['--port', '1', '--system-id', 'x', '-n', '3', '--dest', '9..1'], { from: 'user' }), /backwards/);
});

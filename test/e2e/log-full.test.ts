// The log output fills up under a running gateway: its stdout is a file past the process's file
// size limit (`ulimit -f` in a shell wrapper; no root needed). Writes fail with EFBIG, as they
// would with ENOSPC on a full disk. The gateway keeps answering /healthz and acknowledging
// submits, counts the lines it drops (smppgw_log_dropped_total), and writes again once the file
// has room (here: truncated), starting with a line saying how many were dropped.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SmscSimulator } from '../../src/sim/smsc.js';
import { ESME } from '../helpers/gateway-carrier.js';
import { CLI, cli, tempDir } from '../helpers/gateway-process.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { Submitter, httpGet, metric } from '../helpers/store-fault.js';
import { waitFor } from '../helpers/wait.js';

/** Bytes per `ulimit -f` block in this sh (POSIX says 512, bash says 1024), or why not usable. */
function ulimitBlockBytes(dir: string): number | string {
  const probe = join(dir, 'probe');
  const r = spawnSync('sh', ['-c', 'ulimit -f 4 && head -c 100000 /dev/zero > "$0"', probe], { encoding: 'utf8' });
  if (!existsSync(probe)) return `sh cannot set a file size limit (ulimit -f): ${r.stderr.trim()}`;
  const size = statSync(probe).size;
  return size > 0 && size < 100_000 ? size / 4 : `ulimit -f did not limit the file (${size} bytes)`;
}

/** The log lines (JSON) in the file; fragments and filler are skipped. */
function logLines(file: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of readFileSync(file, 'latin1').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* a line cut by the limit */
    }
  }
  return out;
}

/** Log lines on demand: `n` binds with a wrong password (each logged at warn or info). */
async function refusedBinds(port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const peer = await RawPeer.connect(port);
    await peer.send({ command: 'bind_transmitter', sequence_number: 1, system_id: ESME.systemId, password: 'wrong' });
    await peer.next();
    peer.socket.destroy();
  }
}

test('log output past its size limit: /healthz answers, submits are acknowledged, dropped lines are counted, and logging resumes once there is room', async (t) => {
  const tmp = tempDir();
  const unit = ulimitBlockBytes(tmp.dir);
  if (typeof unit === 'string') {
    tmp.cleanup();
    t.skip(unit);
    return;
  }
  const blocks = 8_192; // 4 or 8 MiB: the database stays far below it, the log is filled to it
  const limit = blocks * unit;
  const db = join(tmp.dir, 'gw.db');
  const logFile = join(tmp.dir, 'gw.log');
  const sim = new SmscSimulator({ dlrDelayMs: 0 });
  await sim.start();
  cli(db, 'init');
  cli(db, 'account', 'add', ESME.systemId, '--password', ESME.password, '--window', '100');
  cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(sim.port), '--system-id', 'gw', '--password', 'pw');
  cli(db, 'route', 'add', 'mt', '--connector', 'sim');
  // stdout appended (O_APPEND) to the file, as `>> file` under a service manager would.
  const child = spawn(
    'sh',
    ['-c', `ulimit -f ${blocks} && exec "$0" "$@" >> "${logFile}"`, process.execPath, CLI, 'start', '--db', db, '--port', '0', '--http-port', '0'],
    {
      env: { ...process.env, SMPPGW_SMPP__HOST: '127.0.0.1', SMPPGW_HTTP__HOST: '127.0.0.1', SMPPGW_STORE__SYNCHRONOUS: 'normal', SMPPGW_LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let submitter: Submitter | undefined;
  try {
    let ready: Record<string, unknown> | undefined;
    await waitFor(
      () => (ready = existsSync(logFile) ? logLines(logFile).find((l) => l.msg === 'smppgw ready') : undefined) !== undefined,
      `gateway ready (stderr: ${stderr})`,
      15_000,
    );
    const httpPort = ready!.http as number;
    const smppPort = ready!.smpp as number;
    submitter = await Submitter.start(smppPort, 5);
    await waitFor(() => submitter!.acked.length >= 100, 'submits acknowledged', 15_000);

    // The file reaches its limit: every further write fails with EFBIG.
    appendFileSync(logFile, Buffer.alloc(Math.max(0, limit - statSync(logFile).size), 0x20));
    const full = statSync(logFile).size;
    assert.ok(full >= limit);
    await refusedBinds(smppPort, 40);
    await waitFor(async () => ((await metric(httpPort, 'smppgw_log_dropped_total')) ?? 0) >= 40, 'dropped log lines counted', 20_000);
    const acked = submitter.acked.length;
    await waitFor(() => submitter!.acked.length >= acked + 500, 'submits acknowledged while the log is full', 20_000);
    assert.deepEqual(await httpGet(httpPort, '/healthz'), { status: 200, body: 'ok\n' });
    assert.equal(statSync(logFile).size, full, 'nothing more was written');
    assert.match(stderr, /^smppgw: log output failed \(EFBIG: [^)]*\); dropping log lines until it works again$/m);
    assert.equal(child.exitCode, null, 'still running');

    // Room again: the next writes succeed; the first line says what was dropped.
    truncateSync(logFile, 0);
    let recovered: Record<string, unknown> | undefined;
    await waitFor(
      () => (recovered = logLines(logFile).find((l) => l.msg === 'log output works again; lines were dropped while it failed')) !== undefined,
      'logging resumed',
      15_000,
    );
    assert.equal(recovered!.error, 'EFBIG');
    assert.ok((recovered!.dropped as number) >= 40, `dropped: ${String(recovered!.dropped)}`);
    const dropped = (await metric(httpPort, 'smppgw_log_dropped_total'))!;
    const before = logLines(logFile).length;
    await refusedBinds(smppPort, 10);
    await waitFor(() => logLines(logFile).length >= before + 10, 'new lines written', 15_000);
    await submitter.stop();
    submitter = undefined;
    assert.equal(await metric(httpPort, 'smppgw_log_dropped_total'), dropped, 'nothing dropped once there is room');
    assert.equal(stderr.match(/log output failed/g)?.length, 1, 'one notice per failure');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(logLines(logFile).some((l) => l.msg === 'shutting down'));
  } finally {
    await submitter?.stop();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await sim.stop();
    tmp.cleanup();
  }
});

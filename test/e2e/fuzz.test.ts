// Fuzz a real SmppServer in a child process with ≥ 100,000 valid, mutated and garbage PDUs over
// many connections (bound and not), then check that the process is up, its memory bounded, no
// session left behind, and that a well-behaved session still binds and submits.
// FUZZ_SEED (default 0x5eed) and FUZZ_COUNT (default 100000) override the run; scripts/fuzz.ts
// runs the same engine for longer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESME_ROK } from '../../src/smpp/defs.js';
import type { Pdu } from '../../src/smpp/pdu.js';
import { startProtocolServer } from '../helpers/child.js';
import { runFuzz } from '../helpers/fuzzer.js';
import { RawPeer } from '../helpers/raw-peer.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const COUNT = Number(process.env.FUZZ_COUNT ?? 100_000);
const MB = 1024 * 1024;

test(`fuzz: ${COUNT} random and mutated PDUs (seed ${SEED}) leave the server up, bounded and serving`, { timeout: 90_000 }, async (t) => {
  const server = await startProtocolServer();
  let passed = false;
  try {
    await server.gc();
    const before = await server.assertAlive();

    const summary = await runFuzz({
      port: server.port,
      count: COUNT,
      seed: SEED,
      concurrency: 8,
      timeLimitMs: 50_000,
      alive: () => server.alive,
    });

    const after = await server.memory().catch(() => undefined);
    await server.gc().catch(() => false);
    const afterGc = await server.memory().catch(() => undefined);
    const report = {
      seed: SEED,
      sent: summary.sent,
      bytes: summary.bytes,
      connections: summary.connections,
      boundConnections: summary.boundConnections,
      closedByServer: summary.closedByServer,
      framingCloses: summary.framingCloses,
      unbindCloses: summary.unbindCloses,
      anomaliesByKind: summary.anomaliesByKind,
      responses: summary.responses,
      elapsedMs: summary.elapsedMs,
      rssBeforeMB: +(before.rss / MB).toFixed(1),
      rssAfterMB: after ? +(after.rss / MB).toFixed(1) : null,
      rssAfterGcMB: afterGc ? +(afterGc.rss / MB).toFixed(1) : null,
      heapUsedAfterGcMB: afterGc ? +(afterGc.heapUsed / MB).toFixed(1) : null,
      sentByKind: summary.sentByKind,
      responsesByStatus: summary.responsesByStatus,
    };
    t.diagnostic(JSON.stringify(report));
    console.log(`fuzz summary: ${JSON.stringify(report)}`);

    // The process survived and the run completed.
    assert.equal(
      server.exit,
      undefined,
      `server exited: ${JSON.stringify(server.exit)}\n${server.stderr}\nlast units: ${JSON.stringify(summary.anomalies.slice(0, 3))}`,
    );
    assert.equal(summary.stoppedEarly, undefined, `the run stopped early: ${summary.stoppedEarly}`);
    assert.ok(summary.sent >= COUNT, `sent ${summary.sent} of ${COUNT}`);
    // Every invariant held, the generic_nack before each framing close included.
    assert.deepEqual(summary.anomalies, [], `${summary.anomalyCount} anomalies: ${JSON.stringify(summary.anomaliesByKind)}`);
    assert.equal(summary.anomalyCount, 0);

    // The run reached what it meant to: handlers, decode errors of every kind, framing losses.
    assert.ok(summary.connections >= 100, `only ${summary.connections} connections`);
    assert.ok(summary.boundConnections >= summary.connections / 4, `only ${summary.boundConnections} bound connections`);
    assert.ok(summary.framingCloses >= 10, `only ${summary.framingCloses} connections closed for a bad command_length`);
    assert.ok(summary.responses >= COUNT / 4, `only ${summary.responses} responses`);
    for (const status of ['ESME_ROK', 'ESME_RINVCMDID', 'ESME_RINVCMDLEN', 'ESME_RINVBNDSTS', 'ESME_RSYSERR', 'ESME_RINVTLVLEN']) {
      assert.ok((summary.responsesByStatus[status] ?? 0) > 0, `no ${status} response in the run`);
    }

    // Memory: bounded in absolute terms and in growth.
    assert.ok(afterGc !== undefined, 'memory answered after the run');
    assert.ok(afterGc.rss < 200 * MB, `rss ${(afterGc.rss / MB).toFixed(1)} MB after the run`);
    assert.ok(afterGc.rss - before.rss < 100 * MB, `rss grew by ${((afterGc.rss - before.rss) / MB).toFixed(1)} MB`);

    // Every fuzz connection has been let go.
    const stats = await server.waitForStats((st) => st.sessions === 0, 10_000);
    assert.equal(stats.sessions, 0, 'sessions left open after the run');

    // A fresh, well-behaved session binds and submits.
    const peer = await RawPeer.connect(server.port);
    try {
      const bind = await peer.bind('test', 'secret', 'bind_transmitter', 1);
      assert.deepEqual([bind.command, bind.command_status, bind.sequence_number], ['bind_transmitter_resp', ESME_ROK, 1]);
      for (let seq = 2; seq < 12; seq++) {
        const resp = await peer.request({
          command: 'submit_sm',
          sequence_number: seq,
          source_addr: '12345',
          destination_addr: '4915112345678',
          short_message: Buffer.from(`after fuzz ${seq}`),
        });
        assert.deepEqual([resp.command, resp.command_status, resp.sequence_number], ['submit_sm_resp', ESME_ROK, seq]);
        assert.match((resp as Pdu & { message_id: string }).message_id, /^m[0-9a-f]+$/);
      }
    } finally {
      peer.destroy();
    }
    await server.assertAlive();
    passed = true;
  } finally {
    const exit = await server.stop();
    // Only when nothing failed before: an assertion here would hide the first failure.
    if (passed) assert.deepEqual(exit, { code: 0, signal: null }, `server exit on SIGTERM\n${server.stderr}`);
  }
});

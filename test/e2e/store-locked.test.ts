// An outside process holds the database's write lock (a `sqlite3` shell in BEGIN IMMEDIATE) while an
// ESME submits to a running gateway. The gateway's event loop never waits on the lock: /healthz
// keeps answering, submits are either accepted (once the lock goes) or refused "cannot store now"
// (ESME_RMSGQFUL) after the retries, nothing acknowledged is lost, and the metrics count it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { ESME_RMSGQFUL } from '../../src/smpp/defs.js';
import { tempDir } from '../helpers/gateway-process.js';
import { gatewayWithCarrier } from '../helpers/gateway-carrier.js';
import { Submitter, httpGet, metric, missingFrom, sleep, unfinished } from '../helpers/store-fault.js';
import { waitFor } from '../helpers/wait.js';

/** How long the outside lock is held: longer than the gateway's retries (about 1.5 s). */
const LOCK_MS = 4_000;

test('an outside BEGIN IMMEDIATE: /healthz answers throughout, submits get 0x14 or succeed after, none lost, the metrics count it', async () => {
  const tmp = tempDir();
  const db = `${tmp.dir}/gw.db`;
  const { gw, sim } = await gatewayWithCarrier(db);
  let submitter: Submitter | undefined;
  let other: Database.Database | undefined;
  try {
    submitter = await Submitter.start(gw.smppPort);
    await waitFor(() => submitter!.acked.length >= 100, 'submits acknowledged before the lock', 10_000);

    other = new Database(db);
    other.exec('BEGIN IMMEDIATE');
    const until = Date.now() + LOCK_MS;
    let probes = 0;
    let notReady: string | undefined;
    // Bounded by LOCK_MS / 100 ms; each /healthz must answer at all within 2.5 s (a commit that
    // waited in busy_timeout would hold the event loop for 5 s).
    for (let i = 0; i < LOCK_MS / 100 && Date.now() < until; i++) {
      const health = await httpGet(gw.httpPort, '/healthz', 2_500);
      assert.equal(health.status, 200);
      const ready = await httpGet(gw.httpPort, '/readyz', 2_500);
      if (ready.status === 503) notReady = ready.body.trim();
      probes++;
      await sleep(100);
    }
    const ackedWhileLocked = submitter.acked.length;
    other.exec('COMMIT');
    other.close();
    other = undefined;
    assert.ok(probes >= 5, `probed /healthz ${probes} times while locked`);
    assert.equal(notReady, 'not ready: store busy', '/readyz said not ready while writes were refused');
    assert.ok(submitter.status(ESME_RMSGQFUL) > 0, 'what could not be stored was refused ESME_RMSGQFUL');

    // The lock gone: accepted again, and ready again.
    await waitFor(() => submitter!.acked.length >= ackedWhileLocked + 100, 'submits acknowledged after the lock', 10_000);
    await waitFor(async () => (await httpGet(gw.httpPort, '/readyz')).status === 200, 'ready again', 5_000);
    await submitter.stop();
    const statuses = [...submitter.statuses.keys()].sort();
    assert.deepEqual(statuses, [0, ESME_RMSGQFUL], `only ESME_ROK and ESME_RMSGQFUL: ${JSON.stringify([...submitter.statuses])}`);

    assert.ok(((await metric(gw.httpPort, 'smppgw_store_busy_retries_total')) ?? 0) > 0, 'busy retries counted');
    assert.ok(((await metric(gw.httpPort, 'smppgw_store_errors_total{reason="busy"}')) ?? 0) > 0, 'refused commits counted as busy');
    assert.ok(((await metric(gw.httpPort, 'smppgw_store_wal_bytes')) ?? 0) > 0, 'the WAL size is reported');
    await waitFor(() => unfinished(db) === 0, 'every message delivered', 20_000);

    assert.equal(await gw.stop(), 0);
    assert.deepEqual(missingFrom(db, submitter.acked), [], 'every acknowledged message is in the ledger');
    const stacks = gw.logs.filter((l) => /\n\s+at /.test(String(l.err ?? '')));
    assert.deepEqual(stacks, [], 'no stack traces logged');
  } finally {
    other?.close();
    await submitter?.stop();
    await gw.stop();
    await sim.stop();
    tmp.cleanup();
  }
});

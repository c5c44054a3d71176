// The database file is deleted (or another file moved over its path) under a running gateway.
// SQLite would keep committing into the unlinked inode, acknowledging messages that vanish with the
// process. The gateway notices within about a second, refuses everything (ESME_RMSGQFUL), sends
// nothing more to the carrier, answers /readyz 503, writes what it holds to
// <path>.rescued-<UTC time> and logs what to do; it stays up until stopped. The rescued file holds
// every message that was acknowledged, and a gateway started on it carries on.
import assert from 'node:assert/strict';
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { ESME_RMSGQFUL } from '../../src/smpp/defs.js';
import { startGateway, tempDir } from '../helpers/gateway-process.js';
import { gatewayWithCarrier } from '../helpers/gateway-carrier.js';
import { Submitter, httpGet, metric, missingFrom, sleep, unfinished } from '../helpers/store-fault.js';
import { waitFor } from '../helpers/wait.js';

for (const how of ['deleted', 'replaced'] as const) {
  test(`database file ${how} under load: acks stop, nothing more to the carrier, readyz 503, every acknowledged message in the rescued file`, async () => {
    const tmp = tempDir();
    const db = `${tmp.dir}/gw.db`;
    // The carrier link paced below the ESME's rate: messages wait on it when the file goes.
    const { gw, sim } = await gatewayWithCarrier(db, {}, ['--tps', '200']);
    let submitter: Submitter | undefined;
    let next: Awaited<ReturnType<typeof startGateway>> | undefined;
    try {
      submitter = await Submitter.start(gw.smppPort);
      await waitFor(() => submitter!.acked.length >= 300, 'submits acknowledged', 15_000);
      if (how === 'deleted') {
        rmSync(db);
      } else {
        writeFileSync(`${tmp.dir}/other.db`, '');
        renameSync(`${tmp.dir}/other.db`, db);
      }

      const rescuedLine = await gw.waitLog((l) => typeof l.rescued === 'string', 10_000);
      const rescued = rescuedLine.rescued as string;
      assert.match(rescued, new RegExp(`^${db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\.rescued-\\d{8}T\\d{6}Z$`));
      assert.equal(rescuedLine.level, 50, 'logged at error level');
      assert.match(String(rescuedLine.msg), /stop smppgw.*smppgw restore .*start smppgw/);
      assert.equal(statSync(rescued).mode & 0o777, 0o600, 'the rescued file is 0600 like the database');

      // Acks have stopped: what the ESME sends now is refused "cannot store now", and nothing
      // more goes to the carrier.
      await sleep(300);
      const acked = submitter.acked.length;
      const refused = submitter.status(ESME_RMSGQFUL);
      const toCarrier = sim.stats.submits;
      await waitFor(() => submitter!.status(ESME_RMSGQFUL) >= refused + 200, 'submits refused after the loss', 10_000);
      assert.equal(submitter.acked.length, acked, 'no message acknowledged after the loss was handled');
      assert.equal(sim.stats.submits, toCarrier, 'nothing sent to the carrier after the loss was handled');
      const ready = await httpGet(gw.httpPort, '/readyz');
      assert.deepEqual([ready.status, ready.body.trim()], [503, 'not ready: store lost']);
      assert.equal((await httpGet(gw.httpPort, '/healthz')).status, 200, 'alive: it stays up for the operator');
      assert.equal(await metric(gw.httpPort, 'smppgw_store_lost'), 1);
      assert.ok(((await metric(gw.httpPort, 'smppgw_store_errors_total{reason="lost"}')) ?? 0) >= 1);
      await submitter.stop();
      assert.deepEqual(
        [...submitter.statuses.keys()].sort(),
        [0, ESME_RMSGQFUL],
        `only ESME_ROK and ESME_RMSGQFUL: ${JSON.stringify([...submitter.statuses])}`,
      );

      // Every message the ESME was told was accepted is in the rescued file.
      assert.deepEqual(missingFrom(rescued, submitter.acked), [], 'no acknowledged message missing from the rescued file');
      assert.equal(gw.child.exitCode, null, 'still running');

      // The operator's steps: stop, put the rescued file in place, start.
      assert.equal(await gw.stop(), 0);
      if (how === 'deleted') assert.equal(existsSync(`${db}-wal`), false, "the lost database's WAL is not left beside the path");
      rmSync(db, { force: true });
      rmSync(`${db}-wal`, { force: true });
      rmSync(`${db}-shm`, { force: true });
      renameSync(rescued, db);
      next = await startGateway(db);
      assert.equal((await httpGet(next.httpPort, '/readyz')).status, 200);
      assert.deepEqual(missingFrom(db, submitter.acked), []);
      assert.ok(unfinished(db) > 0, 'messages were still waiting for the carrier when the file went');
      await waitFor(() => unfinished(db) === 0, 'the next gateway sends what waited, and records the receipts', 30_000);
    } finally {
      await submitter?.stop();
      await next?.stop();
      await gw.stop();
      await sim.stop();
      tmp.cleanup();
    }
  });
}

// The disk fills up under a running gateway: a real full filesystem (a tmpfs mounted with a size
// limit, which needs root: CI runs as root; elsewhere the test is skipped and says so). What cannot
// be stored is answered ESME_RMSGQFUL (0x14, "cannot store now", which ESMEs retry), never
// ESME_RSYSERR; /readyz says not ready until a commit succeeds again; smppgw_store_errors_total
// counts it; the log gets one line per interval, not a stack per refused message. Once there is
// room again, it accepts again, and every acknowledged message is in the ledger.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESME_RMSGQFUL } from '../../src/smpp/defs.js';
import { gatewayWithCarrier } from '../helpers/gateway-carrier.js';
import { Submitter, httpGet, metric, missingFrom, unfinished } from '../helpers/store-fault.js';
import { waitFor } from '../helpers/wait.js';

/** A size-limited tmpfs on a new directory; a reason to skip when it cannot be made. */
function smallFilesystem(sizeMb: number): { dir: string; cleanup(): void } | string {
  if (process.getuid?.() !== 0) return 'needs root to mount a size-limited tmpfs (CI runs as root)';
  const dir = mkdtempSync(join(tmpdir(), 'smppgw-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmdirSync(dir);
    return `mount -t tmpfs failed (${String((err as { stderr?: Buffer }).stderr ?? err).trim()}): needs CAP_SYS_ADMIN`;
  }
  return {
    dir,
    cleanup: () => {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      }
      rmdirSync(dir);
    },
  };
}

/** Writes a file until the filesystem is full (bounded by its size). */
function fill(file: string, maxBytes: number): number {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (const size of [1 << 16, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x55);
      for (let i = 0; i < maxBytes / size + 1; i++) {
        try {
          written += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

test('disk full under load: 0x14 not 0x08, readyz 503 until a commit succeeds, counted, one log line per interval; accepted again once there is room', async (t) => {
  const fs = smallFilesystem(16);
  if (typeof fs === 'string') {
    t.skip(fs);
    return;
  }
  const db = `${fs.dir}/gw.db`;
  const { gw, sim } = await gatewayWithCarrier(db, { SMPPGW_STORE__SYNCHRONOUS: 'full' });
  let submitter: Submitter | undefined;
  try {
    submitter = await Submitter.start(gw.smppPort);
    await waitFor(() => submitter!.acked.length >= 200, 'submits acknowledged', 15_000);
    const filler = `${fs.dir}/filler`;
    assert.ok(fill(filler, 16 << 20) > 0);

    // A retrying ESME against a full disk: thousands of refusals.
    await waitFor(() => submitter!.status(ESME_RMSGQFUL) >= 2_000, 'submits refused ESME_RMSGQFUL', 20_000);
    const ready = await httpGet(gw.httpPort, '/readyz');
    assert.deepEqual([ready.status, ready.body.trim()], [503, 'not ready: store full']);
    assert.ok(((await metric(gw.httpPort, 'smppgw_store_errors_total{reason="full"}')) ?? 0) > 0, 'counted as full');
    assert.equal(submitter.status(0x08), 0, 'never ESME_RSYSERR');
    const fullLines = gw.logs.filter((l) => l.reason === 'full' && (l.level as number) >= 50);
    assert.ok(fullLines.length >= 1 && fullLines.length <= 3, `one error line per 10 s, not one per refusal: ${fullLines.length}`);
    const errorLines = gw.logs.filter((l) => (l.level as number) >= 50);
    assert.ok(errorLines.length <= 5, `a handful of error lines for ${submitter.status(ESME_RMSGQFUL)} refusals: ${JSON.stringify(errorLines.slice(0, 10))}`);
    assert.deepEqual(
      gw.logs.filter((l) => /\n\s+at /.test(String(l.err ?? ''))),
      [],
      'no stack traces logged',
    );

    // Room again: the next commit succeeds, it is ready and accepts again.
    rmSync(filler);
    const acked = submitter.acked.length;
    await waitFor(async () => (await httpGet(gw.httpPort, '/readyz')).status === 200, 'ready again once there is room', 10_000);
    await waitFor(() => submitter!.acked.length >= acked + 200, 'submits acknowledged again', 15_000);
    await submitter.stop();
    assert.deepEqual([...submitter.statuses.keys()].sort(), [0, ESME_RMSGQFUL], `only ESME_ROK and ESME_RMSGQFUL: ${JSON.stringify([...submitter.statuses])}`);
    assert.ok(gw.logs.some((l) => l.msg === 'store commits again; ready'));
    // What was on the wire when the disk filled, and the receipts refused meanwhile, are recorded
    // once there is room: every message ends with its carrier receipt.
    await waitFor(() => unfinished(db) === 0, 'every message delivered', 20_000);
    assert.equal(await gw.stop(), 0);
    assert.deepEqual(missingFrom(db, submitter.acked), [], 'every acknowledged message is in the ledger');
  } finally {
    await submitter?.stop();
    await gw.stop();
    await sim.stop();
    fs.cleanup();
  }
});

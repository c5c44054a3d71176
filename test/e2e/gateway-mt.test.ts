// MT end to end through real processes: load tool → gateway (child process, SQLite on disk) →
// bundled SMSC simulator, and the receipts back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runLoad } from '../../src/sim/load.js';
import { SmscSimulator } from '../../src/sim/smsc.js';
import { messageStates } from '../helpers/db-read.js';
import { cli, startGateway, tempDir, type GatewayProcess } from '../helpers/gateway-process.js';

const ESME = { systemId: 'acme', password: 'acme123' };

async function withGateway(
  opts: { idFormat?: 'hex' | 'dec'; sim?: ConstructorParameters<typeof SmscSimulator>[0]; env?: NodeJS.ProcessEnv; tps?: number },
  body: (gw: GatewayProcess, sim: SmscSimulator, db: string) => Promise<void>,
): Promise<void> {
  const tmp = tempDir();
  const sim = new SmscSimulator({ dlrDelayMs: 0, idFormat: opts.idFormat ?? 'hex', ...opts.sim });
  const { port } = await sim.start();
  const db = `${tmp.dir}/gw.db`;
  cli(db, 'init');
  cli(db, 'account', 'add', ESME.systemId, '--password', ESME.password, '--window', '100', '--tps', String(opts.tps ?? 0));
  cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(port), '--system-id', 'gw', '--password', 'pw', '--window', '50');
  cli(db, 'route', 'add', 'mt', '--connector', 'sim');
  const gw = await startGateway(db, [], { SMPPGW_SMSC__RETRYBASEMS: '50', SMPPGW_SMSC__RETRYMAXMS: '200', ...opts.env });
  try {
    await body(gw, sim, db);
  } finally {
    assert.equal(await gw.stop(), 0, 'gateway exits 0 on SIGTERM');
    await sim.stop();
    tmp.cleanup();
  }
}

for (const idFormat of ['hex', 'dec'] as const) {
  test(`1,000 MT with receipts: all acked, every receipt back with the gateway's id (simulator ids in ${idFormat})`, async () => {
    await withGateway({ idFormat }, async (gw, sim) => {
      const s = await runLoad({ port: gw.smppPort, ...ESME, count: 1000, window: 50, dlr: true, timeoutMs: 20_000 });
      assert.equal(s.acked, 1000, JSON.stringify(s.errors));
      assert.equal(s.dlrs, 1000);
      assert.equal(s.dlrsMatched, 1000, 'every receipt carries an id the gateway gave');
      assert.equal(s.dlrsUnmatched, 0);
      assert.equal(sim.summary().submitsOk, 1000, 'every message reached the carrier');
      assert.equal(sim.summary().duplicates, 0);
      const status = (await gw.status()) as { connectors: Record<string, { up: boolean; queued: number; inFlight: number }>; outbox: Record<string, number> };
      assert.deepEqual(status.connectors.sim, { ...status.connectors.sim, up: true, queued: 0, inFlight: 0 });
      assert.deepEqual(status.outbox, {}, 'no receipt left waiting');
    });
  });
}

test('per-account throttling is answered ESME_RTHROTTLED (0x58)', async () => {
  await withGateway({ tps: 5 }, async (gw) => {
    const s = await runLoad({ port: gw.smppPort, ...ESME, count: 200, window: 50 });
    assert.ok((s.errors['0x58'] ?? 0) > 0, `some refused as throttled: ${JSON.stringify(s.errors)}`);
    assert.ok(s.acked >= 1 && s.acked < 200, `some accepted (${s.acked})`);
    // Counted under the account's own label (not a `name` shared with connectors).
    const text = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    assert.match(text, new RegExp(`^smppgw_account_throttled_total\\{account="acme"\\} ${s.errors['0x58']}$`, 'm'));
    // Sessions are named by their peer: an ESME's is esme-N, a carrier's smsc-N.
    assert.match(String((await gw.waitLog((l) => l.msg === 'ESME bound')).session), /^esme-\d+$/);
  });
});

test('an account that ignores its window is answered ESME_RMSGQFUL (0x14)', async () => {
  await withGateway({}, async (gw, _sim, db) => {
    cli(db, 'account', 'set', ESME.systemId, '--window', '2');
    await gw.waitLog((l) => l.msg === 'tables reloaded');
    const s = await runLoad({ port: gw.smppPort, ...ESME, count: 300, window: 50 });
    assert.ok((s.errors['0x14'] ?? 0) > 0, `some refused as over the window: ${JSON.stringify(s.errors)}`);
    assert.equal(s.acked + (s.errors['0x14'] ?? 0), 300, JSON.stringify(s.errors));
  });
});

test('carrier throttling and errors: every message ends delivered or failed, none stuck', async () => {
  await withGateway(
    { sim: { throttle: 200, errorRate: 0.2, errorStatuses: [0x14, 0x58, 0x45] }, env: { SMPPGW_SMSC__MAXATTEMPTS: '4' } },
    async (gw, sim, db) => {
      const s = await runLoad({ port: gw.smppPort, ...ESME, count: 500, window: 50, dlr: true, timeoutMs: 20_000 });
      assert.equal(s.acked, 500, 'the gateway accepts all: carrier trouble is its problem now');
      // Every accepted message got a receipt: DELIVRD from the carrier, or one the gateway wrote
      // (REJECTD for a permanent error, UNDELIV after the attempts ran out).
      assert.equal(s.dlrsMatched, 500, JSON.stringify(s.dlrStats));
      const st = messageStates(db);
      const pending = (st[0] ?? 0) + (st[1] ?? 0);
      assert.equal(pending, 0, `no message queued or awaiting a receipt: ${JSON.stringify(st)}`);
      assert.ok((st[8] ?? 0) > 0, 'permanent errors rejected');
      assert.ok(sim.summary().submitsThrottled + sim.summary().submitsFailed > 0);
    },
  );
});

describe('routing changes while running', () => {
  let tmp: ReturnType<typeof tempDir>;
  let sim: SmscSimulator;
  let gw: GatewayProcess;
  let db: string;
  before(async () => {
    tmp = tempDir();
    sim = new SmscSimulator({ dlrDelayMs: 0 });
    await sim.start();
    db = `${tmp.dir}/gw.db`;
    cli(db, 'init');
    cli(db, 'account', 'add', ESME.systemId, '--password', ESME.password);
    cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(sim.port), '--system-id', 'gw', '--password', 'pw');
    gw = await startGateway(db);
  });
  after(async () => {
    await gw.stop();
    await sim.stop();
    tmp.cleanup();
  });

  test('no route: ESME_RINVDSTADR; a route added with the CLI is taken without a restart', async () => {
    const before = await runLoad({ port: gw.smppPort, ...ESME, count: 3 });
    assert.equal(before.errors['0x0b'] ?? before.errors['0x0B'], 3, JSON.stringify(before.errors));
    const reloads = gw.logs.filter((l) => l.msg === 'tables reloaded').length;
    cli(db, 'route', 'add', 'mt', '--connector', 'sim');
    // The daemon polls the table version every store.reloadMs (1 s by default, within the 2 s asked).
    await gw.waitLog((l) => l.msg === 'tables reloaded' && gw.logs.filter((x) => x.msg === 'tables reloaded').length > reloads);
    const afterAdd = await runLoad({ port: gw.smppPort, ...ESME, count: 10 });
    assert.equal(afterAdd.acked, 10, JSON.stringify(afterAdd.errors));
  });
});

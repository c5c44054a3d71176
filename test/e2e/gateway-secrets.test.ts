// Connector passwords sealed at rest, through real processes: the CLI seals (and never prints) the
// password, the gateway (child process) opens it and binds to the simulator, which accepts only that
// password; a key rotation with `connector rekey` keeps it bound; a database from before sealing is
// sealed at start; a gateway without the right key stays up and leaves that connector down.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { runLoad } from '../../src/sim/load.js';
import { SmscSimulator } from '../../src/sim/smsc.js';
import { openDb } from '../../src/store/db.js';
import { CLI, cli, startGateway, tempDir, type GatewayProcess } from '../helpers/gateway-process.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = 'carr1er!';
const ESME = { systemId: 'acme', password: 'acme123' };

function run(db: string, env: NodeJS.ProcessEnv, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--db', db], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function rawPassword(db: string): string {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare("SELECT password FROM connectors WHERE id = 'sim'").pluck().get() as string;
  } finally {
    d.close();
  }
}

async function connectorUp(gw: GatewayProcess): Promise<boolean> {
  const s = await gw.status();
  return s.connectors.sim?.up === true;
}

const noSecretIn = (gw: GatewayProcess) => assert.ok(!JSON.stringify(gw.logs).includes(SECRET), 'no log line carries the password');

test('the CLI seals the password and never prints it; the gateway binds with it; rekey after a rotation keeps it bound; the old key can then go', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const sim = new SmscSimulator({ dlrDelayMs: 0, password: SECRET });
  const { port } = await sim.start();
  t.after(() => sim.stop());
  const db = join(tmp.dir, 'gw.db');
  const keyFile = join(tmp.dir, 'smppgw.key');
  cli(db, 'init');

  const add = run(db, {}, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(port), '--system-id', 'gw', '--password', SECRET);
  assert.equal(add.status, 0, add.stderr);
  assert.match(add.stderr, /created .*smppgw\.key \(0600\), the key that seals connector passwords/);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const printed = [
    add.stdout,
    add.stderr,
    cli(db, 'connector', 'list'),
    cli(db, 'connector', 'list', '--json'),
    cli(db, 'connector', 'show', 'sim'),
    cli(db, 'connector', 'show', 'sim', '--json'),
    cli(db, 'connector', 'set', 'sim', '--window', '20'),
  ];
  assert.match(printed[4]!, /^id\s+host\s+port/);
  for (const out of printed) assert.ok(!out.includes(SECRET), out);
  assert.match(rawPassword(db), /^enc:v1:[0-9a-f]{8}:/);
  assert.ok(!rawPassword(db).includes(SECRET));
  cli(db, 'account', 'add', ESME.systemId, '--password', ESME.password);
  cli(db, 'route', 'add', 'mt', '--connector', 'sim');

  let gw = await startGateway(db);
  try {
    await waitFor(() => connectorUp(gw), 'connector bound with the opened password', 10_000);
    assert.equal(sim.summary().bindsRefused, 0);
    const s = await runLoad({ port: gw.smppPort, ...ESME, count: 5, timeoutMs: 10_000 });
    assert.equal(s.acked, 5, JSON.stringify(s.errors));
    await waitFor(() => sim.summary().submitsOk === 5, 'messages at the carrier', 10_000);

    // Rotation: the old key is moved aside and listed as previous; rekey makes a new key and reseals.
    const binds = sim.summary().binds;
    const reloads = gw.logs.filter((l) => l.msg === 'tables reloaded').length;
    renameSync(keyFile, join(tmp.dir, 'old.key'));
    const rekey = run(db, { SMPPGW_STORE__PREVIOUSKEYFILES: join(tmp.dir, 'old.key') }, 'connector', 'rekey');
    assert.equal(rekey.status, 0, rekey.stderr);
    assert.match(rekey.stdout, /^resealed 1 connector password\(s\) under key [0-9a-f]{8}\n$/);
    assert.match(rekey.stderr, /created .*smppgw\.key/);
    const newId = /key ([0-9a-f]{8})/.exec(rekey.stdout)![1]!;
    assert.ok(rawPassword(db).startsWith(`enc:v1:${newId}:`));
    // The running gateway rereads the table, finds the new key file, and keeps its bind.
    await gw.waitLog(() => gw.logs.filter((l) => l.msg === 'tables reloaded').length > reloads);
    assert.ok(await connectorUp(gw));
    assert.equal(sim.summary().binds, binds, 'same password: no rebind');
    assert.equal(gw.logs.filter((l) => l.level === 50).length, 0, JSON.stringify(gw.logs.filter((l) => l.level === 50)));
    assert.match(run(db, {}, 'connector', 'rekey').stdout, /^resealed 0 connector password\(s\) under key /, 'nothing left under the old key');
    noSecretIn(gw);
    assert.equal(await gw.stop(), 0);

    // The old key is gone: a fresh gateway binds with the new one alone.
    rmSync(join(tmp.dir, 'old.key'));
    gw = await startGateway(db);
    await waitFor(() => connectorUp(gw), 'bound again after a restart on the new key alone', 10_000);
    assert.equal(sim.summary().bindsRefused, 0);
    noSecretIn(gw);
  } finally {
    await gw.stop();
  }
});

test('a database from before sealing: the gateway binds with the plain password and seals it at start; under another key it stays up and leaves the connector down', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const sim = new SmscSimulator({ dlrDelayMs: 0, password: SECRET });
  const { port } = await sim.start();
  t.after(() => sim.stop());
  const db = join(tmp.dir, 'gw.db');
  const legacy = openDb(db, { create: true });
  legacy
    .prepare("INSERT INTO connectors (id, host, port, system_id, password, created_at, updated_at) VALUES ('sim', '127.0.0.1', ?, 'gw', ?, 0, 0)")
    .run(port, SECRET);
  legacy.close();
  const KEY = 'a1'.repeat(32);

  let gw = await startGateway(db, [], { SMPPGW_SECRET_KEY: KEY });
  try {
    const sealed = await gw.waitLog((l) => l.msg === 'sealed connector passwords stored in clear');
    assert.equal(sealed.connectors, 1);
    await waitFor(() => connectorUp(gw), 'bound', 10_000);
    assert.match(rawPassword(db), new RegExp(`^enc:v1:${String(sealed.keyId)}:`));
    assert.ok(!existsSync(join(tmp.dir, 'smppgw.key')), 'the key came from the environment: no key file');
    noSecretIn(gw);
    assert.equal(await gw.stop(), 0);

    gw = await startGateway(db, [], { SMPPGW_SECRET_KEY: 'b2'.repeat(32) });
    const down = await gw.waitLog((l) => l.msg === 'connector left down: its password cannot be opened');
    assert.equal(down.connector, 'sim');
    assert.equal(down.code, 'SECRET_UNREADABLE');
    assert.match(
      String(down.err),
      /^connector sim: the password is sealed under key [0-9a-f]{8}, which is not among the keys found \(SMPPGW_SECRET_KEY: key [0-9a-f]{8}; no previous keys/,
    );
    const status = (await gw.status()) as { ready: boolean; connectors: Record<string, unknown>; connectorsUnreadable?: string[] };
    assert.equal(status.ready, true);
    assert.deepEqual(status.connectors, {});
    assert.deepEqual(status.connectorsUnreadable, ['sim']);
    // Another table change: the problem is not logged again.
    cli(db, 'account', 'add', 'other', '--password', 'pw');
    await gw.waitLog((l) => l.msg === 'tables reloaded' && l.accounts === 1);
    assert.equal(gw.logs.filter((l) => l.msg === 'connector left down: its password cannot be opened').length, 1);
    noSecretIn(gw);
    // The CLI under the wrong key: listing needs no key; rekey refuses in one line naming the connector and the keys tried.
    const wrong = { SMPPGW_SECRET_KEY: 'b2'.repeat(32) };
    assert.match(run(db, wrong, 'connector', 'list').stdout, /^id .*\nsim /);
    const rekey = run(db, wrong, 'connector', 'rekey');
    assert.notEqual(rekey.status, 0);
    assert.match(
      rekey.stderr,
      /^smppgw: connector sim: the password is sealed under key [0-9a-f]{8}, which is not among the keys found \(SMPPGW_SECRET_KEY: key [0-9a-f]{8}; .*\)\n$/,
    );
  } finally {
    assert.equal(await gw.stop(), 0);
  }
});

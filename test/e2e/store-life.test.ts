// The store's life cycle through the shipped CLI, as separate processes: one daemon per database
// (the second start refused, the first serving on; the lock free again after a kill -9), a start
// where a database was deleted, a damaged database, backup under load then restore, and the exit
// codes a supervisor sees (one line on stderr each).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config.js';
import type { StoreError } from '../../src/errors.js';
import { Gateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log.js';
import { SmppClient } from '../../src/smpp/client.js';
import { openDb } from '../../src/store/db.js';
import { damagePages } from '../helpers/damage.js';
import { CLI, cli, startGateway, tempDir, type GatewayProcess } from '../helpers/gateway-process.js';
import { freePort } from '../helpers/wait.js';
import { idsOfDb, rowOf } from '../helpers/message-ids.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a child process, bounded: killed (code null) if it runs past `ms`. */
function run(args: string[], opts: { cwd?: string; ms?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? process.cwd(),
      env: { ...process.env, SMPPGW_SMPP__HOST: '127.0.0.1', SMPPGW_HTTP__HOST: '127.0.0.1', SMPPGW_STORE__SYNCHRONOUS: 'normal' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.ms ?? 15_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Exit `code`, and stderr one line `smppgw: …` containing each of `parts`. */
function refused(r: Run, code: number, ...parts: string[]): void {
  assert.equal(r.code, code, `exit ${r.code} (want ${code}); stderr: ${r.stderr}; stdout: ${r.stdout.slice(-500)}`);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
  assert.match(lines[0]!, /^smppgw: /);
  assert.doesNotMatch(lines[0]!, /\bat .*\.js:\d+/, 'no stack');
  for (const p of parts) assert.ok(lines[0]!.includes(p), `${JSON.stringify(p)} in ${lines[0]}`);
}

const mode = (path: string): number => statSync(path).mode & 0o777;

test('two daemons on one database: the second start is refused at once (75) naming the first; the first serves on, the admin CLI beside it; after kill -9 a restart takes the database', async () => {
  const tmp = tempDir();
  const db = join(tmp.dir, 'gw.db');
  let gw: GatewayProcess | undefined;
  try {
    gw = await startGateway(db);
    const second = await run(['start', '--db', db, '--port', '0', '--http-port', '0']);
    refused(second, 75, db, `pid ${gw.child.pid}`, `SMPP port ${gw.smppPort}`, `HTTP port ${gw.httpPort}`, 'started 20');
    assert.equal((await gw.status()).ready, true, 'the first keeps serving');
    cli(db, 'account', 'add', 'acme', '--password', 'pw');
    assert.match(cli(db, 'account', 'list'), /acme/);
    await gw.kill();
    gw = await startGateway(db);
    assert.equal((await gw.status()).ready, true);
    assert.equal(await gw.stop(), 0);
    gw = undefined;
  } finally {
    await gw?.kill();
    tmp.cleanup();
  }
});

test('in one process: Gateway.stop() lets the database go, so another Gateway on it starts; while one runs, another is refused', async () => {
  const tmp = tempDir();
  const config = loadConfig({
    env: {},
    overrides: { store: { path: join(tmp.dir, 'gw.db'), synchronous: 'normal' }, smpp: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 } },
  });
  try {
    const first = new Gateway(config, silentLogger);
    await first.start();
    const second = new Gateway(config, silentLogger);
    await assert.rejects(second.start(), (err: StoreError) => err.code === 'STORE_LOCKED');
    await first.stop();
    const third = new Gateway(config, silentLogger);
    await third.start();
    await third.stop();
  } finally {
    tmp.cleanup();
  }
});

test('start: a first start in an empty directory creates the database (logged by absolute path); where one was deleted it refuses (66) unless --init', async () => {
  const tmp = tempDir();
  let gw: GatewayProcess | undefined;
  try {
    // Relative to the working directory, as `npm start` runs with ./data/smppgw.db.
    const created = await run(['init', '--db', 'data/smppgw.db'], { cwd: tmp.dir });
    assert.equal(created.code, 0, created.stderr);
    assert.ok(created.stdout.includes(join(tmp.dir, 'data', 'smppgw.db')), created.stdout);
    rmSync(join(tmp.dir, 'data'), { recursive: true });

    const db = join(tmp.dir, 'data', 'smppgw.db');
    gw = await startGateway(db);
    const log = await gw.waitLog((l) => l.msg === 'store created');
    assert.equal(log.path, db);
    assert.equal(mode(db), 0o600);
    assert.equal(mode(join(tmp.dir, 'data')), 0o700);
    assert.equal(await gw.stop(), 0);
    gw = undefined;

    rmSync(db); // the operator's mistake; the lock file beside it stays
    const again = await run(['start', '--db', db, '--port', '0', '--http-port', '0']);
    refused(again, 66, `no database at ${db}`, `${db}.lock`, 'restore', '--init');
    assert.equal(existsSync(db), false, 'nothing created');

    gw = await startGateway(db, ['--init']);
    await gw.waitLog((l) => l.msg === 'store created');
    assert.equal(await gw.stop(), 0);
    gw = undefined;
  } finally {
    await gw?.kill();
    tmp.cleanup();
  }
});

test('start: a damaged database is refused by quick_check (74), one line naming it', async () => {
  const tmp = tempDir();
  try {
    const db = join(tmp.dir, 'gw.db');
    const d = openDb(db, { create: true });
    const ins = d.prepare('INSERT INTO accounts (system_id, password_hash, created_at, updated_at) VALUES (?, ?, 0, 0)');
    d.transaction(() => {
      for (let i = 0; i < 2_000; i++) ins.run(`acct${i}`, 'x'.repeat(100));
    })();
    d.close();
    damagePages(db);
    refused(await run(['start', '--db', db, '--port', '0', '--http-port', '0']), 74, db, 'damaged', 'smppgw restore');
  } finally {
    tmp.cleanup();
  }
});

test('exit codes by class, one line on stderr; admin commands create and chmod nothing', async () => {
  const tmp = tempDir();
  try {
    const db = join(tmp.dir, 'gw.db');
    assert.equal((await run(['init', '--db', db])).code, 0);
    const missing = join(tmp.dir, 'typo', 'gw.db');
    refused(await run(['account', 'list', '--db', missing]), 66, missing);
    assert.equal(existsSync(join(tmp.dir, 'typo')), false, 'no directory made');
    const dir = join(tmp.dir, 'somedir');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    refused(await run(['account', 'list', '--db', dir]), 66, dir);
    refused(await run(['route', 'list', '--db', `${dir}/`]), 66, dir);
    assert.equal(mode(dir), 0o755, 'the directory is not chmodded');
    const text = join(tmp.dir, 'notes.txt');
    writeFileSync(text, 'plain text\n'.repeat(100));
    chmodSync(text, 0o644);
    refused(await run(['connector', 'list', '--db', text]), 65, text);
    assert.equal(mode(text), 0o644, 'the file is not chmodded');
    refused(await run(['account', 'show', 'nobody', '--db', db]), 65, 'no account nobody');
    refused(await run(['account', 'add', 'x', '--db', db]), 64, '--password');
    refused(await run(['account', 'list', '--bogus', '--db', db]), 64, '--bogus');
    refused(await run(['start', '--port', 'eighty']), 64, 'port');
    const help = await run(['account', 'add', '--help']);
    assert.deepEqual([help.code, help.stderr], [0, '']);
    const version = await run(['--version']);
    assert.deepEqual([version.code, version.stderr], [0, '']);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    refused(await run(['status', '--url', `http://127.0.0.1:${await freePort()}`]), 69, 'cannot reach');
    refused(await run(['start', '--db', '/proc/nope/x.db', '--port', '0', '--http-port', '0']), 73, '/proc/nope');
    refused(await run(['init', '--db', db]), 73, db, 'already');
    const config = join(tmp.dir, 'bad.yaml');
    writeFileSync(config, 'smpp:\n  prot: 2775\n');
    refused(await run(['start', '--config', config, '--db', db]), 78, 'smpp.prot');
    refused(await run(['backup', text, '--db', db]), 73, text, '--force');
    refused(await run(['restore', join(tmp.dir, 'none.db'), '--db', db]), 66, join(tmp.dir, 'none.db'));
    assert.deepEqual(readdirSync(tmp.dir).sort(), ['bad.yaml', 'gw.db', 'gw.db.lock', 'gw.db.lock.json', 'notes.txt', 'somedir']);
  } finally {
    tmp.cleanup();
  }
});

test('backup while the gateway takes messages, restore refused while it runs, then restored and started: every message acknowledged before the backup is there', async () => {
  const tmp = tempDir();
  const db = join(tmp.dir, 'gw.db');
  const file = join(tmp.dir, 'backup.db');
  let gw: GatewayProcess | undefined;
  let client: SmppClient | undefined;
  try {
    cli(db, 'init');
    cli(db, 'account', 'add', 'acme', '--password', 'pw', '--window', '100');
    // A carrier that is not there: every accepted message stays queued in the database.
    cli(db, 'connector', 'add', 'away', '--host', '127.0.0.1', '--port', String(await freePort()), '--system-id', 'gw', '--password', 'pw');
    cli(db, 'route', 'add', 'mt', '--connector', 'away');
    gw = await startGateway(db);
    client = new SmppClient({
      host: '127.0.0.1',
      port: gw.smppPort,
      bind: { command: 'bind_transmitter', system_id: 'acme', password: 'pw' },
      session: { enquireLinkMs: 0 },
    });
    client.start();
    const session = await client.whenBound();
    const gatewayIds = idsOfDb(db);
    const acked: number[] = [];
    let stop = false;
    let sent = 0;
    const sender = async () => {
      while (!stop && sent < 200_000) {
        const i = sent++;
        const r = await session.request({
          command: 'submit_sm',
          source_addr: 'SHOP',
          destination_addr: String(4917000000 + i),
          short_message: Buffer.from(`backup ${i}`),
        });
        assert.equal(r.command_status, 0);
        acked.push(rowOf(gatewayIds, r.message_id));
      }
    };
    const senders = Array.from({ length: 20 }, sender);
    for (let i = 0; i < 500 && acked.length < 1_000; i++) await new Promise((r) => setTimeout(r, 10));
    const before = [...acked];
    assert.ok(before.length >= 1_000, `load under way (${before.length} acked)`);
    const backup = await run(['backup', file, '--db', db], { ms: 60_000 });
    const ackedDuringBackup = acked.length - before.length;
    stop = true;
    await Promise.all(senders);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /integrity ok/);
    assert.ok(ackedDuringBackup > 0, 'the gateway kept acknowledging while the backup ran');

    refused(await run(['restore', file, '--db', db]), 75, db, `pid ${gw.child.pid}`);
    await client.close(2_000);
    client = undefined;
    assert.equal(await gw.stop(), 0);
    gw = undefined;

    const restored = await run(['restore', file, '--db', db]);
    assert.equal(restored.code, 0, restored.stderr);
    const replaced = /kept as (\S+)$/m.exec(restored.stdout)?.[1];
    assert.ok(replaced && existsSync(replaced), restored.stdout);
    gw = await startGateway(db);
    const resumed = await gw.waitLog((l) => l.msg === 'resumed queued work');
    assert.ok((resumed.messages as number) >= before.length, `resumed ${String(resumed.messages)}`);
    const ids = new Set(query(db, 'SELECT id FROM messages'));
    assert.deepEqual(
      before.filter((id) => !ids.has(id)),
      [],
      'every message acknowledged before the backup is in the restored database',
    );
    const all = new Set(query(replaced, 'SELECT id FROM messages'));
    assert.deepEqual(
      acked.filter((id) => !all.has(id)),
      [],
      'and every acknowledged message in the one it replaced',
    );
    assert.equal(await gw.stop(), 0);
    gw = undefined;
  } finally {
    await client?.close(2_000);
    await gw?.kill();
    tmp.cleanup();
  }
});

function query(db: string, sql: string): number[] {
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return d.prepare(sql).pluck().all() as number[];
  } finally {
    d.close();
  }
}

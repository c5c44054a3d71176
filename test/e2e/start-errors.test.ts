// `smppgw start` with what an operator gets wrong: one line on stderr naming the key, variable or
// flag, no stack, and the exit code of its class (78 config, 75 a port in use, 65 not a database).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, cli, tempDir } from '../helpers/gateway-process.js';

function start(db: string, env: NodeJS.ProcessEnv, args: string[] = []): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'start', '--db', db, '--http-port', '0', ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, SMPPGW_SMPP__HOST: '127.0.0.1', SMPPGW_HTTP__HOST: '127.0.0.1', ...env },
  });
  return { status: r.status, stderr: r.stderr };
}

function oneLine(r: { status: number | null; stderr: string }, status: number, re: RegExp): void {
  assert.equal(r.status, status, r.stderr);
  assert.match(r.stderr, /^smppgw: [^\n]+\n$/, `one line: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\bat .*:\d+:\d+/, 'no stack');
  assert.match(r.stderr.trimEnd(), re);
}

test('start refuses misspelt variables, bad log levels, empty paths, timers Node cannot keep, missing TLS files and busy ports in one line each', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const db = join(tmp.dir, 'gw.db');
  cli(db, 'init');
  oneLine(
    start(db, { SMPPGW_SMPP_PORT: '2776' }, ['--port', '0']),
    78,
    /^smppgw: config SMPPGW_SMPP_PORT: not a configuration variable \(did you mean SMPPGW_SMPP__PORT\?\)/,
  );
  oneLine(start(db, { SMPPGW_LOG_LEVEL: 'garbage' }, ['--port', '0']), 78, /^smppgw: config log\.level: environment SMPPGW_LOG_LEVEL: "garbage" is not one of/);
  oneLine(start('', {}, ['--port', '0']), 78, /^smppgw: config store\.path: --db: "" must not be empty$/);
  const noDb = spawnSync(process.execPath, [CLI, 'start', '--port', '0', '--http-port', '0'], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, SMPPGW_STORE__PATH: '' },
  });
  oneLine({ status: noDb.status, stderr: noDb.stderr }, 78, /^smppgw: config store\.path: environment SMPPGW_STORE__PATH: "" must not be empty$/);
  oneLine(
    start(db, { SMPPGW_SMPP__SESSION__BINDTIMEOUTMS: '2147483648' }, ['--port', '0']),
    78,
    /^smppgw: config smpp\.session\.bindTimeoutMs: environment SMPPGW_SMPP__SESSION__BINDTIMEOUTMS: 2147483648 must be a whole number of ms 0\.\.2147483647/,
  );
  oneLine(
    start(
      db,
      {
        SMPPGW_SMPP__TLS__ENABLED: 'true',
        SMPPGW_SMPP__TLS__CERT: join(tmp.dir, 'missing.pem'),
        SMPPGW_SMPP__TLS__KEY: join(tmp.dir, 'missing.pem'),
        SMPPGW_SMPP__TLS__PORT: '0',
      },
      ['--port', '0'],
    ),
    78,
    /^smppgw: config smpp\.tls\.cert: cannot read .*missing\.pem: no such file$/,
  );
  const notDb = join(tmp.dir, 'notes.txt');
  writeFileSync(notDb, 'not a database\n'.repeat(100));
  oneLine(start(notDb, {}, ['--port', '0']), 65, /notes\.txt is not an SQLite database/);

  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.after(() => busy.close());
  const port = (busy.address() as net.AddressInfo).port;
  oneLine(start(db, {}, ['--port', String(port)]), 75, new RegExp(`^smppgw: config smpp\\.port: 127\\.0\\.0\\.1:${port} is in use`));
});

// Operator commands and option values: a flag with its value missing must not swallow the next
// flag as the value (`account add a2 --password --json` stored the password "--json").
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, cli, tempDir } from '../helpers/gateway-process.js';

const run = (db: string, ...args: string[]) => spawnSync(process.execPath, [CLI, ...args, '--db', db], { encoding: 'utf8', timeout: 20_000 });

test('an option value that is another option of the command is refused (exit 64, nothing stored); --opt=value takes it as meant', (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const db = join(tmp.dir, 'gw.db');
  cli(db, 'init');
  const r = run(db, 'account', 'add', 'a2', '--password', '--json');
  assert.equal(r.status, 64, r.stderr);
  assert.equal(
    r.stderr,
    'smppgw: option --password got --json, which is an option of this command: give --password its value (or write --password=--json if that is the value)\n',
  );
  const short = run(db, 'connector', 'add', 'c', '--host', 'h', '--port', '1', '--system-id', 's', '--password', '-c');
  assert.equal(short.status, 64, short.stderr);
  assert.match(short.stderr, /^smppgw: option --password got -c, which is an option/);
  assert.equal(JSON.parse(cli(db, 'account', 'list', '--json')).length, 0, 'nothing stored');
  assert.equal(JSON.parse(cli(db, 'connector', 'list', '--json')).length, 0, 'nothing stored');
  const meant = run(db, 'account', 'add', 'a3', '--password=--json', '--json');
  assert.equal(meant.status, 0, meant.stderr);
  assert.equal((JSON.parse(meant.stdout) as Array<{ system_id: string }>)[0]!.system_id, 'a3');
});

test('account add with a password SMPP cannot carry: one line, exit 65', (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const db = join(tmp.dir, 'gw.db');
  cli(db, 'init');
  const r = run(db, 'account', 'add', 'a4', '--password', '🔑🔑🔑🔑');
  assert.equal(r.status, 65, r.stderr);
  assert.equal(r.stderr, 'smppgw: password has U+1F511, which SMPP cannot carry (16 octets in UTF-8; SMPP compares octets, one per character: use ASCII)\n');
});

test("--help shows the defaults: the config keys behind start's flags, and what add leaves to defaults (set keeps values, so shows none)", () => {
  const help = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.replace(/\s+/g, ' ');
  };
  const start = help('start');
  assert.match(start, /--port <n> SMPP port \(smpp\.port; default: 2775\)/);
  assert.match(start, /--http-port <n> .*\(http\.port; default: 8080\)/);
  assert.match(start, /--db <file> .*default: \.\/data\/smppgw\.db/);
  const add = help('account', 'add');
  for (const d of [
    /--window <n> open submit_sm per bind \(default: 10\)/,
    /--max-binds <n> simultaneous binds \(default: 4\)/,
    /--id-format <f> .*\(default: hex\)/,
  ])
    assert.match(add, d);
  assert.doesNotMatch(help('account', 'set'), /default: 10/);
  assert.match(help('connector', 'add'), /--on-timeout <m> .*\(default: reconnect\)/);
});

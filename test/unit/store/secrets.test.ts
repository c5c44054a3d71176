// KeyRing: sealing round trip, tampering, wrong and missing keys (errors that name where the key was
// looked for and never the secret), where the key comes from, the key file made on first need, and
// rotation. Plus: the log never shows a connector's password, whatever shape carries it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { DEFAULTS } from '../../../src/config.js';
import { SecretError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import { isSealed, KeyRing, keyRingFor, parseKey, sealedKeyId, type KeySources } from '../../../src/store/secrets.js';

const K1 = '0123456789abcdef'.repeat(4);
const K2 = 'fedcba9876543210'.repeat(4);

function dir(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'smppgw-keys-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function ring(d: string, more: Partial<KeySources> = {}): KeyRing {
  return new KeyRing({ dbPath: join(d, 'smppgw.db'), keyFile: '', previousKeyFiles: '', env: {}, ...more });
}

function secretError(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SecretError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    assert.doesNotMatch(err.message, /\n/, 'one line');
    return true;
  });
}

test('round trip: any password, a fresh IV each time, the same length for every SMPP password', (t) => {
  const keys = ring(dir(t), { env: { SMPPGW_SECRET_KEY: K1 } });
  const lengths = new Set<number>();
  for (const p of ['', 'a', 'pw', '12345678', 'äöü€', 'x'.repeat(40)]) {
    const a = keys.seal(p, 'connector:c');
    const b = keys.seal(p, 'connector:c');
    assert.notEqual(a, b, 'random IV');
    assert.ok(isSealed(a));
    assert.equal(sealedKeyId(a), keys.currentId());
    assert.equal(keys.open(a, 'connector:c', 'connector c'), p);
    if (p.length <= 8) lengths.add(a.length);
  }
  assert.equal(lengths.size, 1, 'length does not tell a password of 1 from one of 8');
  assert.equal(sealedKeyId('pw'), undefined);
  assert.equal(isSealed('enc:v1:x'), false, 'an 8-character password that looks like the prefix is not taken for a sealed value');
});

test('tampering with any part, or another row, is refused (never garbage)', (t) => {
  const keys = ring(dir(t), { env: { SMPPGW_SECRET_KEY: K1 } });
  const sealed = keys.seal('secret1', 'connector:a');
  const [prefix, body] = [sealed.slice(0, sealed.lastIndexOf(':') + 1), sealed.slice(sealed.lastIndexOf(':') + 1)];
  const raw = Buffer.from(body, 'base64');
  for (let i = 0; i < raw.length; i++) {
    const flipped = Buffer.from(raw);
    flipped[i]! ^= 0x01;
    secretError(
      () => keys.open(prefix + flipped.toString('base64'), 'connector:a', 'connector a'),
      'SECRET_UNREADABLE',
      /^connector a: the password does not open under key [0-9a-f]{8}: altered, or copied from another row$/,
    );
  }
  secretError(() => keys.open(prefix + raw.subarray(0, 20).toString('base64'), 'connector:a', 'connector a'), 'SECRET_UNREADABLE', /does not open/);
  secretError(() => keys.open(sealed, 'connector:b', 'connector b'), 'SECRET_UNREADABLE', /^connector b: .*copied from another row/);
  secretError(() => keys.open('enc:v2:whatever', 'connector:a', 'connector a'), 'SECRET_UNREADABLE', /neither sealed/);
});

test('a wrong key is named by id, with where the keys were looked for; never the password nor the key', (t) => {
  const d = dir(t);
  const sealed = ring(d, { env: { SMPPGW_SECRET_KEY: K1 } }).seal('hunter2', 'connector:c');
  const other = ring(d, { env: { SMPPGW_SECRET_KEY: K2 } });
  const id1 = sealedKeyId(sealed)!;
  assert.notEqual(other.currentId(), id1);
  secretError(
    () => other.open(sealed, 'connector:c', 'connector c'),
    'SECRET_UNREADABLE',
    new RegExp(
      `^connector c: the password is sealed under key ${id1}, which is not among the keys found \\(SMPPGW_SECRET_KEY: key ${other.currentId()}; no previous keys \\(store.previousKeyFiles, SMPPGW_PREVIOUS_SECRET_KEYS\\)\\)$`,
    ),
  );
  try {
    other.open(sealed, 'connector:c', 'connector c');
  } catch (err) {
    for (const s of ['hunter2', K1, K2]) assert.ok(!(err as Error).message.includes(s));
  }
});

test('the key: SMPPGW_SECRET_KEY (hex or base64) wins over store.keyFile, which wins over the file beside the database', (t) => {
  const d = dir(t);
  const file = join(d, 'configured.key');
  writeFileSync(file, `${K2}\n`);
  writeFileSync(join(d, 'smppgw.key'), K1);
  const fromEnv = ring(d, { keyFile: file, env: { SMPPGW_SECRET_KEY: Buffer.from(K1, 'hex').toString('base64') } });
  const fromHexEnv = ring(d, { env: { SMPPGW_SECRET_KEY: K1 } });
  const fromFile = ring(d, { keyFile: file });
  const beside = ring(d);
  assert.equal(fromEnv.currentId(), fromHexEnv.currentId(), 'base64 and hex of the same bytes are the same key');
  assert.equal(beside.currentId(), fromHexEnv.currentId());
  assert.notEqual(fromFile.currentId(), beside.currentId());
  assert.match(fromFile.where(), /^store\.keyFile .*configured\.key: key [0-9a-f]{8}; no previous keys/);
  assert.equal(
    keyRingFor({ store: { ...DEFAULTS.store, path: join(d, 'smppgw.db'), keyFile: file } }, { env: {} }).currentId(),
    fromFile.currentId(),
    'keyRingFor reads the config the same way',
  );
  const urlSafe = Buffer.from(K2, 'hex').toString('base64url');
  assert.deepEqual(parseKey(urlSafe, 'x'), Buffer.from(K2, 'hex'));
  for (const bad of ['', 'abc', K1.slice(2), `${K1}00`, Buffer.alloc(31).toString('base64'), 'not a key at all, not at all!!!!!!!!!!!!!!!']) {
    secretError(
      () => ring(d, { env: { SMPPGW_SECRET_KEY: bad || ' ' }, keyFile: join(d, 'nope') }).seal('x', 'r'),
      bad ? 'SECRET_KEY_INVALID' : 'SECRET_KEY_MISSING',
      bad ? /^SMPPGW_SECRET_KEY: a key must be 32 bytes/ : /store\.keyFile .*nope: no such file/,
    );
  }
});

test('the key file beside the database: created 0600 on first seal only, once, never overwritten', (t) => {
  const d = dir(t);
  const path = join(d, 'sub', 'smppgw.key');
  const created: string[] = [];
  const keys = new KeyRing({ dbPath: join(d, 'sub', 'smppgw.db'), keyFile: '', previousKeyFiles: '', env: {}, onCreate: (p) => created.push(p) });
  secretError(
    () => keys.open(`enc:v1:00000000:${Buffer.alloc(44).toString('base64')}`, 'r', 'connector r'),
    'SECRET_KEY_MISSING',
    /key file .*smppgw\.key: no such file \(it is created when a password is first stored\)/,
  );
  assert.ok(!existsSync(path), 'opening creates nothing');
  const sealed = keys.seal('pw', 'r');
  assert.deepEqual(created, [path]);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const text = readFileSync(path, 'utf8');
  assert.match(text, /^[0-9a-f]{64}\n$/);
  keys.seal('pw', 'r');
  const second = new KeyRing({ dbPath: join(d, 'sub', 'smppgw.db'), keyFile: '', previousKeyFiles: '', env: {}, onCreate: (p) => created.push(p) });
  assert.equal(second.open(sealed, 'r', 'connector r'), 'pw', 'another process finds the same key');
  assert.equal(readFileSync(path, 'utf8'), text, 'never rewritten');
  assert.deepEqual(created, [path], 'created once');
});

test('rotation: previous keys open what they sealed; a ring rereads its files when it meets a key it has not seen', (t) => {
  const d = dir(t);
  const daemon = ring(d);
  const before = daemon.seal('pw', 'connector:x');
  const oldId = daemon.currentId();
  // The operator moves the key aside and lists it as previous; a new key file appears.
  renameSync(join(d, 'smppgw.key'), join(d, 'old.key'));
  const cli = ring(d, { previousKeyFiles: join(d, 'old.key'), env: { SMPPGW_PREVIOUS_SECRET_KEYS: K2 } });
  assert.equal(cli.open(before, 'connector:x', 'connector x'), 'pw');
  const after = cli.seal('pw', 'connector:x');
  assert.notEqual(sealedKeyId(after), oldId);
  assert.match(
    cli.where(),
    /^key file .*smppgw\.key: key [0-9a-f]{8}; previous: SMPPGW_PREVIOUS_SECRET_KEYS\[1\]: key [0-9a-f]{8}, store\.previousKeyFiles .*old\.key: key [0-9a-f]{8}$/,
  );
  assert.equal(daemon.open(after, 'connector:x', 'connector x'), 'pw', 'the running daemon picks up the new key file');
  assert.equal(daemon.open(before, 'connector:x', 'connector x'), 'pw', 'and still holds the old key it had');
  rmSync(join(d, 'old.key'));
  secretError(() => ring(d).open(before, 'connector:x', 'connector x'), 'SECRET_UNREADABLE', new RegExp(`sealed under key ${oldId}`));
  secretError(
    () => ring(d, { previousKeyFiles: join(d, 'old.key') }).open(before, 'connector:x', 'connector x'),
    'SECRET_UNREADABLE',
    /previous: store\.previousKeyFiles .*old\.key: no such file\)$/,
  );
});

test('the log redacts a connector password in every shape the code logs it in', () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  const c = { id: 'x', host: 'h', password: 'S3cr3t!' };
  log.info(c, 'top level');
  log.info({ connector: c }, 'nested');
  log.info({ connectors: [c] }, 'in a list');
  log.info({ link: { settings: c } }, 'settings');
  log.info({ options: { bind: { command: 'bind_transceiver', password: c.password } } }, 'bind options');
  assert.equal(lines.length, 5);
  for (const line of lines) {
    assert.ok(!line.includes('S3cr3t!'), line);
    assert.match(line, /\[redacted\]/);
  }
});

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkFiles, DEFAULTS, envOverrides, loadConfig, MAX_TIMER_MS } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

const shipped = fileURLToPath(new URL('../../../config/smppgw.yaml', import.meta.url));

function yamlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'smppgw-config-'));
  const file = join(dir, 'c.yaml');
  writeFileSync(file, text);
  return file;
}

function configError(fn: () => unknown, key: string, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.key, key);
    assert.match(err.message, re);
    return true;
  });
}

test('the shipped config file lists every key with exactly the built-in defaults', () => {
  assert.deepEqual(loadConfig({ file: shipped, env: {} }), DEFAULTS);
});

test('no file gives the defaults, frozen', () => {
  const c = loadConfig({ env: {} });
  assert.deepEqual(c, DEFAULTS);
  assert.ok(Object.isFrozen(c.smpp.session));
  assert.throws(() => ((c.smpp as { port: number }).port = 1));
});

test('file < environment < command line', () => {
  const file = yamlFile('smpp:\n  port: 1111\n  session:\n    window: 5\n');
  const c = loadConfig({ file, env: { SMPPGW_SMPP__PORT: '2222', SMPPGW_SMPP__SESSION__WINDOW: '7' }, overrides: { smpp: { port: 3333 } } });
  assert.equal(c.smpp.port, 3333);
  assert.equal(c.smpp.session.window, 7);
  assert.equal(c.smpp.session.responseTimeoutMs, DEFAULTS.smpp.session.responseTimeoutMs);
});

test('environment names map case-insensitively onto camelCase keys, typed by the default', () => {
  assert.deepEqual(
    envOverrides({ SMPPGW_SMPP__SESSION__RESPONSETIMEOUTMS: '500', SMPPGW_SMPP__TLS__ENABLED: 'false', OTHER: 'x', SMPPGW_LOG_LEVEL: 'debug' }),
    {
      smpp: { session: { responseTimeoutMs: 500 }, tls: { enabled: false } },
    },
  );
});

test('errors name the key at fault', () => {
  configError(() => loadConfig({ file: yamlFile('smpp:\n  prot: 1\n'), env: {} }), 'smpp.prot', /unknown key/);
  configError(() => loadConfig({ file: yamlFile('smpp:\n  port: "x"\n'), env: {} }), 'smpp.port', /must be a number/);
  configError(() => loadConfig({ file: yamlFile('smpp:\n  port: 70000\n'), env: {} }), 'smpp.port', /not a port/);
  configError(() => loadConfig({ file: yamlFile('smpp:\n  session:\n    window: 0\n'), env: {} }), 'smpp.session.window', /≥ 1/);
  configError(() => loadConfig({ file: yamlFile('log:\n  level: loud\n'), env: {} }), 'log.level', /not one of/);
  configError(() => loadConfig({ env: { SMPPGW_HTTP__PORT: 'eighty' } }), 'http.port', /not a number/);
  configError(() => loadConfig({ file: yamlFile('smpp:\n  tls:\n    enabled: true\n'), env: {} }), 'smpp.tls.cert', /TLS is enabled/);
  configError(() => loadConfig({ file: yamlFile('smpp: [1, 2]\n'), env: {} }), 'smpp', /mapping/);
  configError(() => loadConfig({ file: yamlFile('smpp:\n  port: 1\n port: 2\n'), env: {} }), '(file)', /not valid YAML/);
  configError(() => loadConfig({ file: '/nonexistent/smppgw.yaml', env: {} }), '(file)', /cannot read/);
});

test('every timer key refuses 2^31 ms and more (Node would fire it after 1 ms), naming the variable it came from', () => {
  configError(
    () => loadConfig({ env: { SMPPGW_SMPP__SESSION__BINDTIMEOUTMS: '2147483648' } }),
    'smpp.session.bindTimeoutMs',
    /^config smpp\.session\.bindTimeoutMs: environment SMPPGW_SMPP__SESSION__BINDTIMEOUTMS: 2147483648 must be a whole number of ms 0\.\.2147483647 \(about 24\.8 days/,
  );
  assert.equal(loadConfig({ env: { SMPPGW_SMPP__SESSION__BINDTIMEOUTMS: String(MAX_TIMER_MS) } }).smpp.session.bindTimeoutMs, MAX_TIMER_MS);
  // Every *Ms key, those added later included (they get the timer rule unless RULES says otherwise).
  const leaves = (tree: object, path: string[] = []): string[][] =>
    Object.entries(tree).flatMap(([k, v]) => (typeof v === 'object' && v !== null ? leaves(v as object, [...path, k]) : [[...path, k]]));
  const timers = leaves(DEFAULTS).filter((p) => p[p.length - 1]!.endsWith('Ms'));
  assert.ok(timers.length >= 10);
  for (const p of timers) {
    const name = `SMPPGW_${p.map((s) => s.toUpperCase()).join('__')}`;
    // Durations added to timestamps (validity, outbox TTL) may be longer than a timer, up to a year.
    const tooLong = ['defaultValidityMs', 'outboxTtlMs'].includes(p[p.length - 1]!) ? 366 * 86_400_000 : 2 ** 31;
    configError(
      () => loadConfig({ env: { [name]: String(tooLong) } }),
      p.join('.'),
      new RegExp(`environment ${name}: ${tooLong} must be a whole number of ms`),
    );
  }
});

test('an SMPPGW_ variable that is no config key stops the start, with a suggestion; the documented extras pass', () => {
  configError(
    () => loadConfig({ env: { SMPPGW_SMPP_PORT: '2776' } }),
    'SMPPGW_SMPP_PORT',
    /^config SMPPGW_SMPP_PORT: not a configuration variable \(did you mean SMPPGW_SMPP__PORT\?\)/,
  );
  configError(() => loadConfig({ env: { SMPPGW_STORE__PATHS: 'x' } }), 'SMPPGW_STORE__PATHS', /not a configuration variable: SMPPGW_ \+ the key path/);
  const c = loadConfig({ env: { SMPPGW_LOG_LEVEL: 'debug', SMPPGW_SECRET_KEY: 'x', SMPPGW_PREVIOUS_SECRET_KEYS: 'y', SMPPGWX: 'not ours', OTHER: 'z' } });
  assert.deepEqual(c, DEFAULTS);
});

test('SMPPGW_LOG_LEVEL, empty values and flags: one line naming the key and where the value came from', () => {
  configError(
    () => loadConfig({ env: { SMPPGW_LOG_LEVEL: 'garbage' } }),
    'log.level',
    /^config log\.level: environment SMPPGW_LOG_LEVEL: "garbage" is not one of fatal, error/,
  );
  configError(
    () => loadConfig({ env: { SMPPGW_STORE__PATH: '' } }),
    'store.path',
    /^config store\.path: environment SMPPGW_STORE__PATH: "" must not be empty$/,
  );
  configError(
    () => loadConfig({ env: {}, overrides: { store: { path: '' } }, flags: { 'store.path': '--db' } }),
    'store.path',
    /^config store\.path: --db: "" must not be empty$/,
  );
  configError(() => loadConfig({ file: yamlFile('smpp:\n  port: 70000\n'), env: {} }), 'smpp.port', /c\.yaml: 70000 is not a port/);
  configError(() => loadConfig({ file: yamlFile('store:\n  synchronous: off\n'), env: {} }), 'store.synchronous', /"off" must be full or normal/);
  configError(() => loadConfig({ file: yamlFile('smpp:\n  tls: 5\n'), env: {} }), 'smpp.tls', /must be a mapping/);
});

test('checkFiles: a TLS or rules file that cannot be read, or is not PEM, is named by its key; TLS files of a listener that is off are not read', () => {
  const notPem = yamlFile('hello\n');
  const on = (tls: object) => loadConfig({ env: {}, overrides: { smpp: { tls: { enabled: true, cert: notPem, key: notPem, ...tls } } } });
  configError(
    () => checkFiles(on({ cert: '/nonexistent/cert.pem' })),
    'smpp.tls.cert',
    /^config smpp\.tls\.cert: cannot read \/nonexistent\/cert\.pem: no such file$/,
  );
  configError(() => checkFiles(on({})), 'smpp.tls.cert', /is not a PEM file/);
  configError(() => checkFiles(loadConfig({ env: { SMPPGW_SMSC__TLSCA: '/nonexistent/ca.pem' } })), 'smsc.tlsCa', /no such file/);
  checkFiles(loadConfig({ env: {}, overrides: { smpp: { tls: { cert: '/nonexistent/cert.pem', key: '/nonexistent/key.pem' } } } }));
});

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULTS, envOverrides, loadConfig } from '../../src/config.js';
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
  assert.deepEqual(envOverrides({ SMPPGW_SMPP__SESSION__RESPONSETIMEOUTMS: '500', SMPPGW_SMPP__TLS__ENABLED: 'false', OTHER: 'x', SMPPGW_LOG_LEVEL: 'debug' }), {
    smpp: { session: { responseTimeoutMs: 500 }, tls: { enabled: false } },
  });
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

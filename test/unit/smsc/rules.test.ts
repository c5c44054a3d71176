import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../src/errors.js';
import { DEFAULT_RULES, ErrorRules, loadRuleFile } from '../../../src/smsc/rules.js';

const shipped = fileURLToPath(new URL('../../../../config/smsc-errors.yaml', import.meta.url));

function ruleFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'smppgw-rules-')), 'rules.yaml');
  writeFileSync(file, text);
  return file;
}

test('the shipped rule file is the built-in table', () => {
  assert.deepEqual(loadRuleFile(shipped), DEFAULT_RULES);
});

test('classify: listed statuses by their rule, others by `otherwise`, no answer by `noResponse`', () => {
  const r = new ErrorRules(DEFAULT_RULES);
  assert.equal(r.classify(0x58), 'temporary');
  assert.equal(r.classify(0x45), 'permanent');
  assert.equal(r.classify(null), 'temporary');
  const strict = new ErrorRules(loadRuleFile(ruleFile('rules: []\notherwise: temporary\nnoResponse: permanent\n')));
  assert.equal(strict.classify(0x45), 'temporary');
  assert.equal(strict.classify(null), 'permanent');
});

test('delay: the backoff doubles up to the maximum; a rule with retryAfterMs uses its own delay', () => {
  const r = new ErrorRules(loadRuleFile(ruleFile('rules:\n  - status: 0x45\n    verdict: temporary\n    retryAfterMs: 60000\n')), {
    maxAttempts: 5,
    baseDelayMs: 100,
    maxDelayMs: 350,
  });
  assert.deepEqual(
    [1, 2, 3, 4].map((a) => r.delayMs(a, 0x14)),
    [100, 200, 350, 350],
  );
  assert.equal(r.delayMs(1, 0x45), 60_000);
  assert.equal(r.delayMs(3, null), 350);
});

test('a bad rule file is refused with the entry named', () => {
  const bad: Array<[string, string]> = [
    ['rules: 1\n', 'smsc.rulesFile'],
    ['rules:\n  - status: 0x58\n    verdict: later\n', 'rules[0].verdict'],
    ['rules:\n  - status: -1\n    verdict: temporary\n', 'rules[0].status'],
    ['rules:\n  - status: 0x58\n    verdict: temporary\n  - status: 88\n    verdict: permanent\n', 'rules[1].status'],
    ['rules:\n  - status: 0x58\n    verdict: temporary\n    after: 5\n', 'rules[0].after'],
    ['rules:\n  - status: 0x58\n    verdict: temporary\n    retryAfterMs: soon\n', 'rules[0].retryAfterMs'],
    ['rules: []\notherwise: maybe\n', 'otherwise'],
    ['rules: []\nextra: 1\n', 'rules file extra'],
  ];
  for (const [text, key] of bad) {
    assert.throws(
      () => loadRuleFile(ruleFile(text)),
      (err: unknown) => err instanceof ConfigError && err.key === key,
      text,
    );
  }
  assert.throws(
    () => loadRuleFile('/nonexistent/rules.yaml'),
    (err: unknown) => err instanceof ConfigError && err.key === 'smsc.rulesFile',
  );
});

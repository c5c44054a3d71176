// Exit codes by class, from the stable `code` of an error: what a service manager sees.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, EXIT, exitCodeFor, GatewayError, InvalidInputError, StoreError, UnavailableError, UsageError } from '../../src/errors.js';

test('each class of error has its sysexits code; anything else is 1', () => {
  const cases: Array<[unknown, number]> = [
    [new UsageError('bad flag'), 64],
    [new InvalidInputError('no account x'), 65],
    [new StoreError('STORE_FOREIGN', '/x', 'not smppgw'), 65],
    [new StoreError('STORE_TOO_NEW', '/x', 'newer'), 65],
    [new StoreError('STORE_MISSING', '/x', 'missing'), 66],
    [new StoreError('STORE_GONE', '/x', 'deleted'), 66],
    [new StoreError('STORE_NOT_FILE', '/x', 'a directory'), 66],
    [new UnavailableError('STATUS_UNREACHABLE', 'down'), 69],
    [new StoreError('STORE_EXISTS', '/x', 'exists'), 73],
    [new StoreError('STORE_CANNOT_CREATE', '/x', 'cannot'), 73],
    [new StoreError('STORE_DAMAGED', '/x', 'damaged'), 74],
    [new StoreError('STORE_LOCKED', '/x', 'held'), 75],
    [new ConfigError('smpp.port', 'bad'), 78],
    [new GatewayError('SOMETHING_ELSE', 'x'), 1],
    [new Error('boom'), 1],
    ['a string', 1],
  ];
  for (const [err, code] of cases) assert.equal(exitCodeFor(err), code, String((err as Error).message ?? err));
  assert.equal(EXIT.SOFTWARE, 70, 'the code the daemon exits with when the WAL cannot be flushed');
});

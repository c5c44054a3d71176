import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BindLockout } from '../../../src/esme/lockout.js';
import { ManualClock } from '../../helpers/clock.js';

test('failures within the window lock out the address and the system_id until the lock ends', () => {
  const clock = new ManualClock();
  const locks: string[] = [];
  const l = new BindLockout({ failures: 3, windowMs: 60_000, lockMs: 300_000 }, clock, (kind, value) => locks.push(`${kind}=${value}`));
  l.failed('10.0.0.1', 'acme');
  l.failed('10.0.0.1', 'acme');
  assert.equal(l.locked('10.0.0.1', 'acme'), undefined, 'two failures: not yet');
  l.failed('10.0.0.1', 'acme');
  assert.deepEqual(locks, ['ip=10.0.0.1', 'system_id=acme']);
  assert.equal(l.locked('10.0.0.1', 'other'), 'ip');
  assert.equal(l.locked('10.0.0.2', 'acme'), undefined, 'a stranger cannot lock the account out for its owner elsewhere');
  assert.equal(l.locked('10.0.0.2', 'other'), undefined);
  clock.advance(299_999);
  assert.equal(l.locked('10.0.0.1', 'acme'), 'ip');
  clock.advance(1);
  assert.equal(l.locked('10.0.0.1', 'acme'), undefined, 'the lock ends');
});

test('failures spread beyond the window do not lock; a good bind clears the count', () => {
  const clock = new ManualClock();
  const l = new BindLockout({ failures: 3, windowMs: 10_000, lockMs: 60_000 }, clock);
  for (let i = 0; i < 10; i++) {
    l.failed('10.0.0.1', 'acme');
    clock.advance(6_000);
  }
  assert.equal(l.locked('10.0.0.1', 'acme'), undefined, 'never 3 within 10 s');
  l.failed('10.0.0.1', 'acme');
  l.failed('10.0.0.1', 'acme');
  l.succeeded('10.0.0.1', 'acme');
  l.failed('10.0.0.1', 'acme');
  assert.equal(l.locked('10.0.0.1', 'other'), 'ip', 'the address kept its own count');
  assert.equal(l.locked('10.0.0.9', 'acme'), undefined);
});

test('failures 0 turns lockouts off', () => {
  const l = new BindLockout({ failures: 0, windowMs: 1, lockMs: 1 }, new ManualClock());
  for (let i = 0; i < 100; i++) l.failed('10.0.0.1', 'acme');
  assert.equal(l.locked('10.0.0.1', 'acme'), undefined);
  assert.equal(l.size, 0);
});

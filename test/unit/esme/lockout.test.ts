import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BindLockout, type LockoutInfo } from '../../../src/esme/lockout.js';
import { ManualClock } from '../../helpers/clock.js';

const policy = { failures: 3, addressFailures: 10, windowMs: 60_000, lockMs: 300_000 };

test('failures of one system_id lock that system_id from that address only, until the lock ends', () => {
  const clock = new ManualClock();
  const locks: LockoutInfo[] = [];
  const l = new BindLockout(policy, clock, (lock) => locks.push(lock));
  l.failed('10.0.0.1', 'acme');
  l.failed('10.0.0.1', 'acme');
  assert.equal(l.locked('10.0.0.1', 'acme'), undefined, 'two failures: not yet');
  l.failed('10.0.0.1', 'acme');
  assert.deepEqual(
    locks.map((k) => `${k.kind}=${k.address}/${k.systemId}`),
    ['system_id=10.0.0.1/acme'],
  );
  assert.equal(l.locked('10.0.0.1', 'acme'), 'system_id');
  assert.equal(l.locked('10.0.0.1', 'other'), undefined, 'another account behind the same address still binds');
  assert.equal(l.locked('10.0.0.2', 'acme'), undefined, 'a stranger cannot lock the account out for its owner elsewhere');
  clock.advance(299_999);
  assert.equal(l.locked('10.0.0.1', 'acme'), 'system_id');
  clock.advance(1);
  assert.equal(l.locked('10.0.0.1', 'acme'), undefined, 'the lock ends');
});

test('unknown system_ids from one address lock only themselves, until the address threshold locks the address', () => {
  const clock = new ManualClock();
  const l = new BindLockout(policy, clock);
  for (let i = 0; i < 3; i++) l.failed('10.0.0.1', 'nobody');
  assert.equal(l.locked('10.0.0.1', 'nobody'), 'system_id');
  assert.equal(l.locked('10.0.0.1', 'acme'), undefined, 'five failures for one unknown id do not lock acme out');
  for (let i = 0; i < 6; i++) l.failed('10.0.0.1', `guess${i}`);
  assert.equal(l.locked('10.0.0.1', 'acme'), undefined, 'nine failures: below addressFailures');
  l.failed('10.0.0.1', 'guess9');
  assert.equal(l.locked('10.0.0.1', 'acme'), 'ip', 'guessing across many system_ids locks the address');
  assert.deepEqual(l.counts(), { ip: 1, system_id: 1 });
});

test('failures spread beyond the window do not lock; a good bind clears the pair, not the address', () => {
  const clock = new ManualClock();
  const l = new BindLockout({ ...policy, addressFailures: 5, windowMs: 10_000 }, clock);
  for (let i = 0; i < 10; i++) {
    l.failed('10.0.0.1', 'acme');
    clock.advance(6_000);
  }
  assert.equal(l.locked('10.0.0.1', 'acme'), undefined, 'never 3 within 10 s');
  l.failed('10.0.0.1', 'acme');
  l.failed('10.0.0.1', 'acme');
  l.succeeded('10.0.0.1', 'acme');
  l.failed('10.0.0.1', 'acme');
  assert.equal(l.locked('10.0.0.1', 'acme'), undefined, 'the pair count restarted');
  l.failed('10.0.0.1', 'other');
  assert.equal(l.locked('10.0.0.1', 'x'), 'ip', 'the address kept its own count');
});

test('list and clear by address and system_id; clearing a system_id leaves address lockouts', () => {
  const clock = new ManualClock();
  const l = new BindLockout({ ...policy, addressFailures: 6 }, clock);
  for (let i = 0; i < 3; i++) l.failed('10.0.0.1', 'acme');
  for (let i = 0; i < 3; i++) l.failed('10.0.0.2', 'acme');
  for (let i = 0; i < 3; i++) l.failed('10.0.0.2', 'beta');
  assert.deepEqual(
    l
      .list()
      .map((e) => `${e.kind}:${e.address}:${e.systemId ?? '*'}`)
      .sort(),
    ['ip:10.0.0.2:*', 'system_id:10.0.0.1:acme', 'system_id:10.0.0.2:acme', 'system_id:10.0.0.2:beta'],
  );
  assert.equal(l.list({ systemId: 'acme' }).length, 2);
  assert.equal(l.list({ address: '10.0.0.2' }).length, 3);
  assert.equal(l.clear({ systemId: 'acme' }), 2);
  assert.equal(l.locked('10.0.0.1', 'acme'), undefined);
  assert.equal(l.locked('10.0.0.2', 'acme'), 'ip', 'the address lockout stays');
  assert.equal(l.clear({ address: '10.0.0.2' }), 2);
  assert.deepEqual(l.list(), []);
  assert.equal(l.clear(), 0);
});

test('failures 0 turns lockouts off', () => {
  const l = new BindLockout({ failures: 0, addressFailures: 50, windowMs: 1, lockMs: 1 }, new ManualClock());
  for (let i = 0; i < 100; i++) l.failed('10.0.0.1', 'acme');
  assert.equal(l.locked('10.0.0.1', 'acme'), undefined);
  assert.equal(l.size, 0);
});

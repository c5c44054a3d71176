// The store lock: one holder per database, refused at once with who holds it, free again after
// release. Across processes (and after a kill -9) in test/e2e/store-life.test.ts.
import assert from 'node:assert/strict';
import { existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { StoreError } from '../../../src/errors.js';
import { lockPath, readHolder, StoreLock } from '../../../src/store/lock.js';
import { tmpDbPath } from '../../helpers/tmpdb.js';

test('a second holder is refused at once, naming the database and the holder; release frees it', (t) => {
  const p = tmpDbPath(t);
  const first = StoreLock.acquire(p.path, { role: 'start', smppPort: 0, httpPort: 0 });
  t.after(() => first.release());
  assert.equal(first.created, true, 'there was no lock file before');
  assert.ok(existsSync(lockPath(p.path)));
  first.describe({ smppPort: 12775, httpPort: 18080 });
  assert.throws(
    () => StoreLock.acquire(p.path, { role: 'start' }),
    (err: StoreError) => {
      assert.equal(err.code, 'STORE_LOCKED');
      assert.ok(err.message.includes(p.path), err.message);
      for (const part of [`pid ${process.pid}`, hostname(), 'SMPP port 12775', 'HTTP port 18080', 'started 20'])
        assert.ok(err.message.includes(part), `${part} in ${err.message}`);
      return true;
    },
  );
  assert.deepEqual(
    { ...readHolder(p.path), startedAt: 'x' },
    { role: 'start', pid: process.pid, host: hostname(), startedAt: 'x', smppPort: 12775, httpPort: 18080 },
  );
  first.release();
  first.release(); // twice is harmless
  const second = StoreLock.acquire(p.path, { role: 'restore' });
  assert.equal(second.created, false, 'the lock file stays: it marks that a database lived here');
  second.release();
});

test('two paths to one database (a symlink) meet at one lock', (t) => {
  const p = tmpDbPath(t);
  writeFileSync(p.path, '');
  const link = join(p.dir, 'link.db');
  symlinkSync(p.path, link);
  const first = StoreLock.acquire(link, { role: 'start' });
  t.after(() => first.release());
  assert.throws(
    () => StoreLock.acquire(p.path, { role: 'start' }),
    (err: StoreError) => err.code === 'STORE_LOCKED',
  );
  assert.equal(lockPath(link), `${p.path}.lock`);
});

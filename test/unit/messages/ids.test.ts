import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { MessageIds, type MessageIdsOptions } from '../../../src/messages/ids.js';
import { Speck64 } from '../../../src/messages/speck.js';

test('Speck64/128 matches the test vector of the Speck paper, and decrypts what it encrypts', () => {
  const key = Buffer.from('1b1a1918131211100b0a090803020100', 'hex');
  const s = new Speck64(key);
  assert.deepEqual(s.encrypt(0x3b726574, 0x7475432d), [0x8c6fa548, 0x454e028b]);
  assert.deepEqual(s.decrypt(0x8c6fa548, 0x454e028b), [0x3b726574, 0x7475432d]);
  for (let i = 0; i < 1000; i++) {
    const x = randomBytes(4).readUInt32BE();
    const y = randomBytes(4).readUInt32BE();
    const [a, b] = s.encrypt(x, y);
    assert.deepEqual(s.decrypt(a, b), [x, y]);
  }
});

const T0 = Date.UTC(2026, 11, 4, 12);

function ids(over: Partial<MessageIdsOptions> = {}): MessageIds & { saved: number[]; t: { now: number } } {
  const saved: number[] = [];
  const t = { now: T0 };
  const m = new MessageIds({
    node: 0,
    key: Buffer.alloc(16, 7),
    legacyMax: 0,
    maxRowId: 0,
    lastEpoch: 0,
    now: () => t.now,
    saveEpoch: (e) => saved.push(e),
    ...over,
  });
  return Object.assign(m, { saved, t });
}

test('row numbers grow, stay safe integers, and take a new epoch per block (persisted)', () => {
  const m = ids();
  const a = m.next();
  const b = m.next();
  assert.ok(b > a && Number.isSafeInteger(b));
  assert.equal(m.saved.length, 1, 'one epoch taken for the first block');
  assert.equal(m.saved[0], Math.floor((T0 - Date.UTC(2025, 0, 1)) / 1000));
});

test('public ids: at most 2^63 - 1, round trip in both formats, and differences say nothing of the count between', () => {
  const m = ids();
  const rows = Array.from({ length: 2000 }, () => m.next());
  const seen = new Set<string>();
  for (const row of rows) {
    const dec = m.format(row, 'dec');
    const hex = m.format(row, 'hex');
    assert.ok(BigInt(dec) <= 2n ** 63n - 1n && BigInt(dec) > 0n, dec);
    assert.equal(BigInt(`0x${hex}`), BigInt(dec));
    assert.equal(m.parse(dec, 'dec'), row);
    assert.equal(m.parse(hex.toUpperCase(), 'hex'), row);
    seen.add(dec);
  }
  assert.equal(seen.size, rows.length, 'no two rows share an id');
  // Consecutive messages: the ids' order and gaps are noise. Order agrees with row order about half the time.
  let ascending = 0;
  for (let i = 1; i < rows.length; i++) if (BigInt(m.format(rows[i]!, 'dec')) > BigInt(m.format(rows[i - 1]!, 'dec'))) ascending++;
  assert.ok(ascending > rows.length * 0.4 && ascending < rows.length * 0.6, `ascending ${ascending} of ${rows.length - 1}`);
  // Ids are spread over the whole 63-bit range: the high half holds about half of them.
  const high = [...seen].filter((s) => BigInt(s) >= 2n ** 62n).length;
  assert.ok(high > rows.length * 0.4 && high < rows.length * 0.6, `${high} in the high half`);
});

test('another key or another node gives other ids; an id of another node does not parse here', () => {
  const a = ids();
  const b = ids({ key: Buffer.alloc(16, 8) });
  const n1 = ids({ node: 1 });
  const row = a.next();
  assert.equal(b.next(), row);
  assert.equal(n1.next(), row);
  assert.notEqual(a.format(row, 'dec'), b.format(row, 'dec'));
  assert.notEqual(a.format(row, 'dec'), n1.format(row, 'dec'));
  assert.equal(a.parse(n1.format(row, 'dec'), 'dec'), undefined);
  assert.deepEqual(a.decode(n1.format(row, 'dec'), 'dec'), { node: 1, row });
  assert.throws(() => ids({ node: 1024 }), /node must be an integer 0\.\.1023/);
});

test('a restart in the same second, or with the clock set back, never reuses a row number', () => {
  const first = ids();
  const rows = [first.next(), first.next()];
  const again = ids({ maxRowId: rows[1]!, lastEpoch: first.saved.at(-1)! });
  again.t.now = T0 - 3_600_000; // the clock went back an hour
  const r = again.next();
  assert.ok(r > rows[1]!, 'past the last block');
});

test('a restored backup hands out rows past every one its original gave out after the backup (the clock moved on)', () => {
  const original = ids();
  const atBackup = { maxRowId: original.next(), lastEpoch: original.saved.at(-1)! };
  original.t.now += 5_000;
  const afterBackup = Array.from({ length: 10 }, () => original.next());
  // Restored: the original's later epochs are unknown to the copy, but time went on.
  const restored = ids({ ...atBackup });
  restored.t.now = original.t.now + 1_000;
  const r = restored.next();
  assert.ok(afterBackup.every((x) => x < r));
});

test('ids given out before (plain row numbers) still resolve as they were, and no new id reads as one', () => {
  const legacyMax = 5_000;
  const m = ids({ legacyMax, maxRowId: legacyMax });
  assert.equal(m.format(41, 'hex'), '29');
  assert.equal(m.format(41, 'dec'), '41');
  assert.equal(m.parse('29', 'hex'), 41);
  assert.equal(m.parse('41', 'dec'), 41);
  const row = m.next();
  assert.ok(row > legacyMax);
  assert.ok(BigInt(m.format(row, 'dec')) > BigInt(legacyMax));
});

test('malformed, zero, negative and out-of-range ids do not parse', () => {
  const m = ids();
  for (const t of ['', ' ', 'x1', '-1', '0', '1.5', '9223372036854775808', '1'.repeat(20)]) assert.equal(m.parse(t, 'dec'), undefined, t);
  for (const t of ['', 'g', '0', '8000000000000000', 'f'.repeat(17)]) assert.equal(m.parse(t, 'hex'), undefined, t);
});

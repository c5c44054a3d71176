// Carrier ids (fold, and the forms a receipt's id may be stored as) and the gateway's own ids as an
// account sees them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldId, receiptIdCandidates } from '../../../src/dlr/ids.js';

test('foldId: trimmed, lower case, no leading zeros, "0" stays "0"', () => {
  assert.equal(foldId('0000A1B2'), 'a1b2');
  assert.equal(foldId('  a1b2\t'), 'a1b2');
  assert.equal(foldId('00012345'), '12345');
  assert.equal(foldId('0'), '0');
  assert.equal(foldId('0000'), '0');
  assert.equal(foldId('ABC-0001'), 'abc-0001', 'only leading zeros go');
  assert.equal(foldId(''), '');
  assert.equal(foldId('   '), '');
  assert.equal(foldId('0x1F'), 'x1f', 'a 0x prefix is not understood, just folded');
});

test('receiptIdCandidates: the same id in another case or with leading zeros matches directly', () => {
  // submit_sm_resp said "0000A1B2" (stored folded as "a1b2"); the receipt says "a1b2".
  const stored = foldId('0000A1B2');
  for (const hint of ['hex', 'dec', 'auto'] as const) assert.equal(receiptIdCandidates('a1b2', hint)[0], stored, hint);
  assert.equal(receiptIdCandidates('000A1B2', 'dec')[0], stored);
});

test('receiptIdCandidates hex: a hex receipt id for a decimal submit_sm_resp id', () => {
  // resp "41394" (decimal) vs receipt "a1b2" (hex, 0xa1b2 = 41394)
  const stored = foldId('41394');
  const candidates = receiptIdCandidates('a1b2', 'hex');
  assert.deepEqual(candidates, ['a1b2', '41394']);
  assert.ok(candidates.includes(stored));
  assert.deepEqual(receiptIdCandidates('A1B2', 'hex'), ['a1b2', '41394']);
  assert.deepEqual(receiptIdCandidates('a1b2', 'dec'), ['a1b2'], 'dec: a non-decimal id is not converted');
});

test('receiptIdCandidates dec: a decimal receipt id for a hex submit_sm_resp id', () => {
  const candidates = receiptIdCandidates('41394', 'dec');
  assert.deepEqual(candidates, ['41394', 'a1b2']);
  assert.ok(candidates.includes(foldId('0000A1B2')));
  assert.deepEqual(receiptIdCandidates('0041394', 'dec'), ['41394', 'a1b2']);
});

test('receiptIdCandidates auto: the id itself only, folded; no base is guessed', () => {
  // Guessing both bases let one message's receipt land on another whose id is the first one's
  // in the other base; a carrier that switches bases is named with hint hex or dec.
  assert.deepEqual(receiptIdCandidates('10', 'auto'), ['10']);
  assert.deepEqual(receiptIdCandidates('00FF', 'auto'), ['ff']);
  assert.deepEqual(receiptIdCandidates('12ab-x', 'auto'), ['12ab-x']);
  assert.deepEqual(receiptIdCandidates('0', 'auto'), ['0']);
});

test('receiptIdCandidates: a hex id with only digits is read as hex too under hint hex', () => {
  // "10" written in hex is 16 in decimal.
  assert.deepEqual(receiptIdCandidates('10', 'hex'), ['10', '16']);
  assert.deepEqual(receiptIdCandidates('10', 'dec'), ['10', 'a']);
});

test('receiptIdCandidates: long ids beyond 2^53 convert exactly; over 32 characters or empty: only the folded id', () => {
  assert.deepEqual(receiptIdCandidates('ffffffffffffffffff', 'hex'), ['ffffffffffffffffff', (2n ** 72n - 1n).toString()]);
  assert.deepEqual(receiptIdCandidates('123456789012345678901234567890', 'dec'), [
    '123456789012345678901234567890',
    123456789012345678901234567890n.toString(16),
  ]);
  const long = 'a'.repeat(33);
  assert.deepEqual(receiptIdCandidates(long, 'auto'), [long]);
  assert.equal(receiptIdCandidates('f'.repeat(32), 'hex').length, 2);
  assert.deepEqual(receiptIdCandidates('', 'auto'), ['']);
  assert.deepEqual(receiptIdCandidates('  ', 'hex'), ['']);
});

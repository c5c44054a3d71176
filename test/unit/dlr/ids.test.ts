// Carrier ids (fold, and the forms a receipt's id may be stored as) and the gateway's own ids as an
// account sees them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldId, formatMessageId, parseMessageId, receiptIdCandidates } from '../../../src/dlr/ids.js';

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
  assert.deepEqual(receiptIdCandidates('123456789012345678901234567890', 'dec'), ['123456789012345678901234567890', 123456789012345678901234567890n.toString(16)]);
  const long = 'a'.repeat(33);
  assert.deepEqual(receiptIdCandidates(long, 'auto'), [long]);
  assert.equal(receiptIdCandidates('f'.repeat(32), 'hex').length, 2);
  assert.deepEqual(receiptIdCandidates('', 'auto'), ['']);
  assert.deepEqual(receiptIdCandidates('  ', 'hex'), ['']);
});

test('formatMessageId: hex (lower case, no padding) or decimal', () => {
  assert.equal(formatMessageId(1, 'hex'), '1');
  assert.equal(formatMessageId(41394, 'hex'), 'a1b2');
  assert.equal(formatMessageId(41394, 'dec'), '41394');
  assert.equal(formatMessageId(Number.MAX_SAFE_INTEGER, 'hex'), '1fffffffffffff');
});

test('formatMessageId / parseMessageId round trip in both formats', () => {
  for (const id of [1, 9, 10, 15, 16, 255, 41394, 1_000_000, 2 ** 32, 999_999_999_999_999]) {
    for (const format of ['hex', 'dec'] as const) assert.equal(parseMessageId(formatMessageId(id, format), format), id, `${id} ${format}`);
  }
  // The limits: 13 hex digits (2^52 - 1) and 15 decimal digits, far beyond any ledger id.
  assert.equal(parseMessageId(formatMessageId(2 ** 52 - 1, 'hex'), 'hex'), 2 ** 52 - 1);
  assert.equal(parseMessageId(formatMessageId(2 ** 52, 'hex'), 'hex'), undefined);
});

test('parseMessageId accepts case and blanks around and leading zeros', () => {
  assert.equal(parseMessageId('A1B2', 'hex'), 41394);
  assert.equal(parseMessageId('  a1b2 ', 'hex'), 41394);
  assert.equal(parseMessageId('000a1b2', 'hex'), 41394);
  assert.equal(parseMessageId('0041394', 'dec'), 41394);
});

test('parseMessageId rejects junk, zero, and ids out of range', () => {
  const hexJunk = ['', ' ', 'g1', '0x1f', '-1', '+1', '1.5', 'a b', '1e3x', '0', '000', 'f'.repeat(14)];
  for (const t of hexJunk) assert.equal(parseMessageId(t, 'hex'), undefined, JSON.stringify(t));
  const decJunk = ['', 'a1', '0x10', '-5', '1.0', '1e3', '12 3', '0', '1'.repeat(16), '٣'];
  for (const t of decJunk) assert.equal(parseMessageId(t, 'dec'), undefined, JSON.stringify(t));
  // 13 hex digits and 15 decimal digits are the longest accepted.
  assert.equal(parseMessageId('f'.repeat(13), 'hex'), 2 ** 52 - 1);
  assert.equal(parseMessageId('9'.repeat(15), 'dec'), 999_999_999_999_999);
});

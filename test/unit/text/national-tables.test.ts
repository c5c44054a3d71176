// The 3GPP TS 23.038 tables: shapes, and positions checked against a second transcription of the
// specification (independent of the one the tables were written from).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ALPHABET, DEFAULT_EXTENSION, LANGUAGE, LOCKING_SHIFT, SINGLE_SHIFT } from '../../../src/text/national-tables.js';

const EXTENSION: [number, string][] = [
  [0x0a, '\f'],
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '€'],
];

const sorted = (m: ReadonlyMap<number, string>): [number, string][] => [...m].sort((a, b) => a[0] - b[0]);

const locking = (id: number): readonly string[] => {
  const t = LOCKING_SHIFT.get(id);
  assert.ok(t, `locking shift table ${id}`);
  return t;
};

const single = (id: number): ReadonlyMap<number, string> => {
  const t = SINGLE_SHIFT.get(id);
  assert.ok(t, `single shift table ${id}`);
  return t;
};

test('language identifiers, and which tables exist (no Spanish locking shift table)', () => {
  assert.deepEqual(LANGUAGE, { turkish: 1, spanish: 2, portuguese: 3 });
  assert.deepEqual([...SINGLE_SHIFT.keys()].sort(), [1, 2, 3]);
  assert.deepEqual([...LOCKING_SHIFT.keys()].sort(), [1, 3]);
  assert.equal(LOCKING_SHIFT.has(LANGUAGE.spanish), false);
});

test('the default alphabet: 128 septets, ESC empty, known positions', () => {
  assert.equal(DEFAULT_ALPHABET.length, 128);
  assert.equal(DEFAULT_ALPHABET[0x1b], '');
  const known: [number, string][] = [
    [0x00, '@'],
    [0x01, '£'],
    [0x09, 'Ç'],
    [0x0a, '\n'],
    [0x0d, '\r'],
    [0x10, 'Δ'],
    [0x11, '_'],
    [0x1f, 'É'],
    [0x20, ' '],
    [0x24, '¤'],
    [0x40, '¡'],
    [0x5f, '§'],
    [0x60, '¿'],
    [0x7f, 'à'],
  ];
  for (const [septet, ch] of known) assert.equal(DEFAULT_ALPHABET[septet], ch, `0x${septet.toString(16)}`);
});

test('the default extension table holds exactly its ten characters', () => {
  assert.deepEqual(sorted(DEFAULT_EXTENSION), EXTENSION);
});

test('locking shift tables: 128 entries, ESC empty, one code unit each, no duplicates', () => {
  for (const table of [DEFAULT_ALPHABET, locking(LANGUAGE.turkish), locking(LANGUAGE.portuguese)]) {
    assert.equal(table.length, 128);
    assert.equal(table[0x1b], '');
    const chars = table.filter((_ch, septet) => septet !== 0x1b);
    for (const ch of chars) assert.equal(ch.length, 1);
    assert.equal(new Set(chars).size, 127);
  }
});

test('Turkish locking shift differs from the default alphabet at exactly its eight positions', () => {
  const tr = locking(LANGUAGE.turkish);
  const differs = new Map<number, string>();
  tr.forEach((ch, septet) => {
    if (ch !== DEFAULT_ALPHABET[septet]) differs.set(septet, ch);
  });
  assert.deepEqual(sorted(differs), [
    [0x04, '€'],
    [0x07, 'ı'],
    [0x0b, 'Ğ'],
    [0x0c, 'ğ'],
    [0x1c, 'Ş'],
    [0x1d, 'ş'],
    [0x40, 'İ'],
    [0x60, 'ç'],
  ]);
});

test('Portuguese locking shift: known positions', () => {
  const pt = locking(LANGUAGE.portuguese);
  const known: [number, string][] = [
    [0x04, 'ê'],
    [0x06, 'ú'],
    [0x07, 'í'],
    [0x08, 'ó'],
    [0x09, 'ç'],
    [0x0b, 'Ô'],
    [0x0c, 'ô'],
    [0x0e, 'Á'],
    [0x0f, 'á'],
    [0x12, 'ª'],
    [0x13, 'Ç'],
    [0x14, 'À'],
    [0x15, '∞'],
    [0x16, '^'],
    [0x17, '\\'],
    [0x18, '€'],
    [0x19, 'Ó'],
    [0x1a, '|'],
    [0x1c, 'Â'],
    [0x1d, 'â'],
    [0x1e, 'Ê'],
    [0x1f, 'É'],
    [0x24, 'º'],
    [0x40, 'Í'],
    [0x5b, 'Ã'],
    [0x5c, 'Õ'],
    [0x5d, 'Ú'],
    [0x5e, 'Ü'],
    [0x60, '~'],
    [0x7b, 'ã'],
    [0x7c, 'õ'],
    [0x7d, '`'],
    [0x7e, 'ü'],
    [0x7f, 'à'],
  ];
  for (const [septet, ch] of known) assert.equal(pt[septet], ch, `0x${septet.toString(16)}`);
});

test('every single shift table has € at 0x65, the default extension characters, and nothing at ESC or CR2', () => {
  for (const [id, table] of SINGLE_SHIFT) {
    assert.equal(table.get(0x65), '€', `language ${id}`);
    for (const [septet, ch] of EXTENSION) assert.equal(table.get(septet), ch, `language ${id} 0x${septet.toString(16)}`);
    assert.equal(table.has(0x1b), false);
    assert.equal(table.has(0x0d), false);
    for (const [septet, ch] of table) {
      assert.ok(septet >= 0 && septet < 128);
      assert.equal(ch.length, 1);
    }
  }
});

test('Turkish single shift: exactly the default extension plus its seven letters', () => {
  const extra: [number, string][] = [
    [0x47, 'Ğ'],
    [0x49, 'İ'],
    [0x53, 'Ş'],
    [0x63, 'ç'],
    [0x67, 'ğ'],
    [0x69, 'ı'],
    [0x73, 'ş'],
  ];
  assert.deepEqual(sorted(single(LANGUAGE.turkish)), sorted(new Map([...EXTENSION, ...extra])));
});

test('Spanish single shift: exactly the default extension plus its nine letters', () => {
  const extra: [number, string][] = [
    [0x09, 'ç'],
    [0x41, 'Á'],
    [0x49, 'Í'],
    [0x4f, 'Ó'],
    [0x55, 'Ú'],
    [0x61, 'á'],
    [0x69, 'í'],
    [0x6f, 'ó'],
    [0x75, 'ú'],
  ];
  assert.deepEqual(sorted(single(LANGUAGE.spanish)), sorted(new Map([...EXTENSION, ...extra])));
});

test('Portuguese single shift: 37 characters, known positions', () => {
  const pt = single(LANGUAGE.portuguese);
  assert.equal(pt.size, 37);
  const known: [number, string][] = [
    [0x05, 'ê'],
    [0x09, 'ç'],
    [0x0b, 'Ô'],
    [0x0c, 'ô'],
    [0x0e, 'Á'],
    [0x0f, 'á'],
    [0x12, 'Φ'],
    [0x13, 'Γ'],
    [0x15, 'Ω'],
    [0x19, 'Θ'],
    [0x1f, 'Ê'],
    [0x41, 'À'],
    [0x49, 'Í'],
    [0x4f, 'Ó'],
    [0x55, 'Ú'],
    [0x5b, 'Ã'],
    [0x5c, 'Õ'],
    [0x61, 'Â'],
    [0x69, 'í'],
    [0x6f, 'ó'],
    [0x75, 'ú'],
    [0x7b, 'ã'],
    [0x7c, 'õ'],
    [0x7f, 'â'],
  ];
  for (const [septet, ch] of known) assert.equal(pt.get(septet), ch, `0x${septet.toString(16)}`);
});

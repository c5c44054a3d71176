// The GSM 7-bit alphabet: every character of the 3GPP tables round-trips (default, extension,
// national single and locking shifts), ESC pairs cost two septets, packing matches 23.038's example.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESC, gsmCost, gsmSeptets, gsmText, isGsm, packSeptets, unpackSeptets, fillBitsAfter } from '../../../src/text/gsm.js';
import { DEFAULT_ALPHABET, DEFAULT_EXTENSION, LANGUAGE, LOCKING_SHIFT, SINGLE_SHIFT } from '../../../src/text/national-tables.js';

test('every default-alphabet character round-trips as one septet, its own position', () => {
  DEFAULT_ALPHABET.forEach((ch, septet) => {
    if (septet === ESC) return;
    assert.deepEqual([...gsmSeptets(ch)!], [septet], `0x${septet.toString(16)} ${JSON.stringify(ch)}`);
    assert.equal(gsmText([septet]), ch);
  });
});

test('every extension character is ESC + its septet, and reads back', () => {
  assert.equal(DEFAULT_EXTENSION.size, 10);
  for (const [septet, ch] of DEFAULT_EXTENSION) {
    assert.deepEqual([...gsmSeptets(ch)!], [ESC, septet], JSON.stringify(ch));
    assert.equal(gsmCost(ch), 2);
    assert.equal(gsmText([ESC, septet]), ch);
  }
  assert.deepEqual([...gsmSeptets('@€{}[]~^|\\')!], [0x00, ESC, 0x65, ESC, 0x28, ESC, 0x29, ESC, 0x3c, ESC, 0x3e, ESC, 0x3d, ESC, 0x14, ESC, 0x40, ESC, 0x2f]);
  assert.equal(gsmText(gsmSeptets('@€{}[]~^|\\')!), '@€{}[]~^|\\');
});

test('every national single-shift character round-trips under its language', () => {
  for (const [lang, table] of SINGLE_SHIFT) {
    for (const [septet, ch] of table) {
      const s = gsmSeptets(ch, { single: lang });
      assert.ok(s, `language ${lang} 0x${septet.toString(16)} ${ch}`);
      assert.equal(gsmText(s, { single: lang }), ch);
      // A character both tables hold is sent as its one basic septet.
      if (!DEFAULT_ALPHABET.includes(ch)) assert.deepEqual([...s], [ESC, septet]);
    }
  }
});

test('every national locking-shift character round-trips under its language', () => {
  for (const [lang, table] of LOCKING_SHIFT) {
    table.forEach((ch, septet) => {
      if (ch === '' || septet === ESC) return;
      const s = gsmSeptets(ch, { locking: lang });
      assert.deepEqual(s && [...s], [septet], `language ${lang} 0x${septet.toString(16)} ${ch}`);
      assert.equal(gsmText([septet], { locking: lang }), ch);
    });
  }
});

test('Turkish text needs its shift table; without it the alphabet cannot carry it', () => {
  const text = 'Işık ğüzel şey';
  assert.equal(isGsm(text), false);
  const shift = { single: LANGUAGE.turkish, locking: LANGUAGE.turkish };
  assert.equal(gsmText(gsmSeptets(text, shift)!, shift), text);
});

test('ESC before an undefined extension position reads as the basic character; a lone ESC as a space', () => {
  assert.equal(gsmText([ESC, 0x41]), 'A');
  assert.equal(gsmText([0x41, ESC]), 'A ');
  assert.equal(gsmText([ESC, ESC, 0x41]), ' A');
});

test('characters outside the alphabet: no septets, cost 0', () => {
  assert.equal(gsmSeptets('hello ✓'), undefined);
  assert.equal(gsmCost('✓'), 0);
  assert.equal(gsmCost('é'), 1);
  assert.equal(isGsm('Ça va? Très bien, 5€'), true);
});

test('packing: 23.038 example "hellohello" and 7/8-septet padding', () => {
  const packed = packSeptets(gsmSeptets('hellohello')!);
  assert.equal(packed.toString('hex'), 'e8329bfd4697d9ec37');
  assert.equal(gsmText(unpackSeptets(packed)), 'hellohello');
  // 7 septets fill 7 octets with 7 zero bits: not an '@'.
  assert.equal(gsmText(unpackSeptets(packSeptets(gsmSeptets('1234567')!))), '1234567');
  assert.equal(gsmText(unpackSeptets(packSeptets(gsmSeptets('12345678')!), 0, 8)), '12345678');
});

test('packing after a UDH: fill bits align the text to a septet boundary', () => {
  assert.equal(fillBitsAfter(6), 1);
  assert.equal(fillBitsAfter(7), 0);
  assert.equal(fillBitsAfter(0), 0);
  const septets = gsmSeptets('Part two of three')!;
  const packed = packSeptets(septets, 1);
  assert.equal(packed.length, Math.ceil((1 + septets.length * 7) / 8));
  assert.equal(gsmText(unpackSeptets(packed, 1)), 'Part two of three');
});

test('property: random GSM texts pack and unpack whole (count known)', () => {
  const chars = [...DEFAULT_ALPHABET.filter((c, i) => c !== '' && i !== ESC), ...DEFAULT_EXTENSION.values()];
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 300; round++) {
    let text = '';
    const len = rand(200);
    for (let i = 0; i < len; i++) text += chars[rand(chars.length)];
    const septets = gsmSeptets(text)!;
    const fill = rand(7);
    assert.equal(gsmText(unpackSeptets(packSeptets(septets, fill), fill, septets.length)), text);
  }
});

// Parts and characters per part for each alphabet and numbering, never cutting an ESC pair or a
// surrogate pair, and the property that segmenting then joining gives the text back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DefaultAlphabet, canCarry, decodeText, encodeText } from '../../../src/text/codings.js';
import { segment, segmentOctets, unitsOf } from '../../../src/text/segments.js';

const capacities: Array<[DefaultAlphabet | 'ucs2', number, number, number]> = [
  ['gsm', 160, 153, 152],
  ['latin1', 140, 134, 133],
  ['ucs2', 70, 67, 66],
];

test('characters per part: 160/153/152 GSM, 70/67/66 UCS2, 140/134/133 octets', () => {
  for (const [alphabet, single, ref8, ref16] of capacities) {
    const unit = alphabet === 'ucs2' ? 'ж' : 'a';
    assert.deepEqual(segment(unit.repeat(single), { alphabet }).units, [single], `${alphabet} single`);
    const two = segment(unit.repeat(single + 1), { alphabet });
    assert.equal(two.capacity, ref8, `${alphabet} 8-bit`);
    assert.deepEqual(two.units, [ref8, single + 1 - ref8]);
    assert.equal(segment(unit.repeat(single + 1), { alphabet, form: 'udh16' }).capacity, ref16, `${alphabet} 16-bit`);
    // SAR parts leave the SMSC room for a 16-bit reference.
    assert.equal(segment(unit.repeat(single + 1), { alphabet, form: 'sar' }).capacity, ref16, `${alphabet} SAR`);
  }
});

test('national shift elements cost 3 octets each', () => {
  const shift = { single: 1 };
  assert.equal(segment('a'.repeat(155), { alphabet: 'gsm', shift }).texts.length, 1);
  assert.equal(segment('a'.repeat(156), { alphabet: 'gsm', shift }).capacity, 149);
  assert.equal(segment('a'.repeat(156), { alphabet: 'gsm', shift: { single: 1, locking: 1 } }).capacity, 146);
});

test('extension characters count two septets and an ESC pair is never split', () => {
  assert.equal(unitsOf('€', 'gsm'), 2);
  assert.equal(segment('€'.repeat(80), { alphabet: 'gsm' }).texts.length, 1);
  const s = segment(`${'a'.repeat(152)}€${'b'.repeat(10)}`, { alphabet: 'gsm' });
  assert.deepEqual(s.texts, ['a'.repeat(152), `€${'b'.repeat(10)}`]);
  assert.deepEqual(s.units, [152, 12]);
});

test('a surrogate pair (an emoji) is never split across parts', () => {
  const s = segment(`${'ж'.repeat(66)}😀xxxxx`, { alphabet: 'ucs2' });
  assert.deepEqual(s.texts, ['ж'.repeat(66), '😀xxxxx']);
  assert.deepEqual(s.units, [66, 7]);
});

test('a text the alphabet cannot carry is a RangeError, not a lossy cut', () => {
  assert.throws(() => segment('naïve ✓', { alphabet: 'gsm' }), RangeError);
});

test('octets: 140 whole, then 134 per part (133 with a 16-bit reference)', () => {
  assert.equal(segmentOctets(Buffer.alloc(140)).length, 1);
  assert.deepEqual(
    segmentOctets(Buffer.alloc(300)).map((b) => b.length),
    [134, 134, 32],
  );
  assert.deepEqual(
    segmentOctets(Buffer.alloc(300), 'udh16').map((b) => b.length),
    [133, 133, 34],
  );
});

test('property: random Unicode → encode → segment → decode → join is the identity wherever the alphabet carries the text', () => {
  const pools = ['abcXYZ 019@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&\'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà\n', '€{}[]~^|\\', 'жщфЖ', 'فارسی', '😀🎉👍', 'ëïœ'];
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let checked = 0;
  for (let round = 0; round < 400; round++) {
    const chars = [...pools.slice(0, 1 + rand(pools.length)).join('')];
    let text = '';
    const len = 1 + rand(700);
    for (let i = 0; i < len; i++) text += chars[rand(chars.length)];
    // Packed GSM without a septet count is ambiguous at 8k septets (gsm.test covers it with the count).
    for (const alphabet of ['gsm', 'latin1', 'ucs2'] as const) {
      if (!canCarry(text, alphabet)) continue;
      for (const form of ['udh', 'udh16', 'sar'] as const) {
        const s = segment(text, { alphabet, form });
        const back = s.texts.map((t) => decodeText(encodeText(t, alphabet)!, alphabet)).join('');
        assert.equal(back, text, `${alphabet} ${form}`);
        for (const u of s.units) assert.ok(u <= s.capacity);
        checked++;
      }
    }
  }
  assert.ok(checked > 400, `only ${checked} cases could be carried`);
});

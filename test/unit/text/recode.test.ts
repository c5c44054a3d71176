// Text between two meanings of data_coding 0: decoded with one, written with the other, the UDH
// kept (and the fill bits of packed GSM after it); UCS2 where it fits, else '?' counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ucs2Text } from '../../../src/text/codings.js';
import { fillBitsAfter, gsmSeptets, gsmText, unpackSeptets } from '../../../src/text/gsm.js';
import { recode } from '../../../src/text/recode.js';
import { concatElement, shiftElements, writeUdh } from '../../../src/text/udh.js';

const f = (shortMessage: Buffer, esmClass = 0, dataCoding = 0) => ({ esmClass, dataCoding, shortMessage });

test('nothing to do: another data_coding, the same meaning, or binary', () => {
  assert.equal(recode(f(Buffer.from('hi'), 0, 3), 'latin1', 'gsm', 140), undefined);
  assert.equal(recode(f(Buffer.from('hi')), 'gsm', 'gsm', 140), undefined);
});

test('Latin-1 to GSM and back; GSM to packed GSM', () => {
  const r = recode(f(Buffer.from('Café @ 5$', 'latin1')), 'latin1', 'gsm', 140)!;
  assert.deepEqual([r.dataCoding, gsmText(r.body), r.substituted], [0, 'Café @ 5$', 0]);
  assert.equal(r.body[5], 0x00, '@ is septet 0');
  const back = recode(f(r.body), 'gsm', 'latin1', 140)!;
  assert.equal(back.body.toString('latin1'), 'Café @ 5$');
  const packed = recode(f(Buffer.from(gsmSeptets('hellohello')!)), 'gsm', 'gsm-packed', 140)!;
  assert.equal(packed.body.toString('hex'), 'e8329bfd4697d9ec37');
});

test('a UDH is kept, and packed text after it starts on a septet boundary', () => {
  const udh = writeUdh([concatElement({ ref: 9, total: 2, seq: 1 }, 8)]);
  const r = recode(f(Buffer.concat([udh, Buffer.from('Grüße', 'latin1')]), 0x40), 'latin1', 'gsm-packed', 140)!;
  assert.deepEqual(r.body.subarray(0, 6), udh);
  assert.equal(gsmText(unpackSeptets(r.body.subarray(6), fillBitsAfter(6), 5)), 'Grüße');
});

test('what the target cannot carry: UCS2 when it fits, else "?" counted; shift elements dropped off GSM', () => {
  const euro = recode(f(Buffer.from(gsmSeptets('5€ {ok}')!)), 'gsm', 'latin1', 140)!;
  assert.deepEqual([euro.dataCoding, ucs2Text(euro.body)], [8, '5€ {ok}']);
  const long = `${'a'.repeat(100)}€`;
  const squeezed = recode(f(Buffer.from(gsmSeptets(long)!)), 'gsm', 'latin1', 140)!;
  assert.deepEqual([squeezed.dataCoding, squeezed.body.toString('latin1'), squeezed.substituted], [0, `${'a'.repeat(100)}?`, 1]);
  const turkish = Buffer.concat([writeUdh(shiftElements({ single: 1 })), Buffer.from(gsmSeptets('ş', { single: 1 })!)]);
  const wide = recode(f(turkish, 0x40), 'gsm', 'latin1', 140)!;
  assert.deepEqual([wide.dataCoding, wide.body.toString('hex')], [8, '00015f'], 'no header left but its length octet, then ş in UCS2');
});

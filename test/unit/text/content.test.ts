// Reading what a short message carries: data_coding to alphabet, UCS2 checks, UDH and SAR part
// numbering, and the text as keywords and receipts see it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alphabetOf, decodeText, encodeText, ucs2Bytes, ucs2Fault, ucs2Text } from '../../../src/text/codings.js';
import { readContent, textOf } from '../../../src/text/content.js';
import { foldToGsm } from '../../../src/text/fold.js';
import { fillBitsAfter, gsmSeptets, packSeptets } from '../../../src/text/gsm.js';
import { carriedElements, concatElement, concatOfUdh, readUdh, sarTlvs, shiftElements, writeUdh } from '../../../src/text/udh.js';

test('data_coding to alphabet: SMPP values, then the 23.038 groups', () => {
  assert.equal(alphabetOf(0, 'gsm'), 'gsm');
  assert.equal(alphabetOf(0, 'latin1'), 'latin1');
  assert.equal(alphabetOf(1, 'gsm'), 'ascii');
  assert.equal(alphabetOf(2, 'gsm'), 'binary');
  assert.equal(alphabetOf(3, 'gsm'), 'latin1');
  assert.equal(alphabetOf(4, 'gsm'), 'binary');
  assert.equal(alphabetOf(6, 'gsm'), 'other');
  assert.equal(alphabetOf(8, 'gsm'), 'ucs2');
  assert.equal(alphabetOf(0x10, 'latin1'), 'gsm');
  assert.equal(alphabetOf(0x18, 'gsm'), 'ucs2');
  assert.equal(alphabetOf(0x24, 'gsm'), 'other'); // compressed
  assert.equal(alphabetOf(0xf0, 'latin1'), 'gsm');
  assert.equal(alphabetOf(0xf4, 'gsm'), 'binary');
  assert.equal(alphabetOf(0xe0, 'gsm'), 'ucs2');
});

test('UCS2 is UTF-16BE: surrogate pairs kept, a BOM dropped, little-endian and odd lengths refused', () => {
  const text = 'سلام 😀 دنیا';
  assert.equal(ucs2Text(ucs2Bytes(text)), text);
  assert.equal(ucs2Bytes('😀').toString('hex'), 'd83dde00');
  assert.equal(ucs2Text(Buffer.concat([Buffer.from([0xfe, 0xff]), ucs2Bytes('hi')])), 'hi');
  assert.equal(ucs2Fault(Buffer.from([0xff, 0xfe, 0x68, 0x00])), 'little_endian');
  assert.equal(ucs2Fault(Buffer.from('Hello', 'utf16le')), 'little_endian');
  assert.equal(ucs2Fault(Buffer.from([0x00, 0x68, 0x00])), 'odd_length');
  assert.equal(ucs2Fault(ucs2Bytes('Hello')), undefined);
  assert.equal(ucs2Fault(ucs2Bytes('一')), undefined);
});

test('Latin-1 and ASCII: octets as characters; ASCII cannot carry the upper half', () => {
  assert.equal(decodeText(Buffer.from('café', 'latin1'), 'latin1'), 'café');
  assert.equal(encodeText('café', 'ascii'), undefined);
  assert.equal(decodeText(Buffer.from([0x63, 0xe9]), 'ascii'), 'c\ufffd');
});

test('UDH: elements read and written back; malformed headers refused', () => {
  const udh = writeUdh([concatElement({ ref: 0x42, total: 3, seq: 2 }, 8), { id: 0x05, data: Buffer.from([0x0b, 0x84, 0x23, 0xf0]) }]);
  assert.equal(udh.toString('hex'), '0b000342030205040b8423f0');
  const read = readUdh(Buffer.concat([udh, Buffer.from('hi')]))!;
  assert.equal(read.headerOctets, 12);
  assert.equal(read.text.toString(), 'hi');
  assert.deepEqual(concatOfUdh(read.elements), { ref: 0x42, total: 3, seq: 2, form: 'udh' });
  assert.deepEqual(
    carriedElements(read.elements).map((e) => e.id),
    [0x05],
  );
  assert.deepEqual(concatOfUdh(readUdh(writeUdh([concatElement({ ref: 0x1234, total: 4, seq: 4 }, 16)]))!.elements), {
    ref: 0x1234,
    total: 4,
    seq: 4,
    form: 'udh16',
  });
  assert.equal(readUdh(Buffer.from([0x05, 0x00, 0x03])), undefined);
  assert.equal(readUdh(Buffer.from([0x03, 0x00, 0x05, 0x01])), undefined);
  // seq 0 or beyond total is no part numbering.
  assert.equal(concatOfUdh([{ id: 0, data: Buffer.from([1, 2, 3]) }]), undefined);
});

test('content: UDH parts, SAR parts, payload, and both at once flagged', () => {
  const body = Buffer.concat([writeUdh([concatElement({ ref: 7, total: 2, seq: 1 }, 8)]), Buffer.from(gsmSeptets('STOP@')!)]);
  const c = readContent({ esmClass: 0x40, dataCoding: 0, shortMessage: body }, 'gsm');
  assert.deepEqual(c.concat, { ref: 7, total: 2, seq: 1, form: 'udh' });
  assert.equal(c.text, 'STOP@');
  const sar = readContent({ esmClass: 0, dataCoding: 8, shortMessage: ucs2Bytes('Привет'), tlvs: sarTlvs({ ref: 300, total: 3, seq: 3 }) }, 'gsm');
  assert.deepEqual(sar.concat, { ref: 300, total: 3, seq: 3, form: 'sar' });
  assert.equal(sar.text, 'Привет');
  const payload = readContent(
    { esmClass: 0, dataCoding: 0, shortMessage: Buffer.alloc(0), tlvs: [{ tag: 0x0424, value: Buffer.from(gsmSeptets('{long}')!) }] },
    'gsm',
  );
  assert.equal(payload.text, '{long}');
  const both = readContent({ esmClass: 0x40, dataCoding: 0, shortMessage: body, tlvs: sarTlvs({ ref: 1, total: 2, seq: 1 }) }, 'gsm');
  assert.equal(both.fault, 'udh_and_sar');
  assert.equal(readContent({ esmClass: 0x40, dataCoding: 0, shortMessage: Buffer.from([9, 0]) }, 'gsm').fault, 'bad_udh');
  assert.equal(readContent({ esmClass: 0, dataCoding: 4, shortMessage: Buffer.from([1, 2]) }, 'gsm').text, undefined);
});

test('a keyword reads the same in GSM, packed GSM after a UDH, UCS2 and Latin-1', () => {
  const stop = [
    textOf({ esmClass: 0, dataCoding: 0, shortMessage: Buffer.from(gsmSeptets('STOP')!) }, 'gsm'),
    textOf({ esmClass: 0, dataCoding: 0, shortMessage: packSeptets(gsmSeptets('STOP')!) }, 'gsm-packed'),
    textOf(
      {
        esmClass: 0x40,
        dataCoding: 0,
        shortMessage: Buffer.concat([writeUdh(shiftElements({ single: 1 })), packSeptets(gsmSeptets('STOP')!, fillBitsAfter(4))]),
      },
      'gsm-packed',
    ),
    textOf({ esmClass: 0, dataCoding: 8, shortMessage: ucs2Bytes('STOP') }, 'gsm'),
    textOf({ esmClass: 0, dataCoding: 3, shortMessage: Buffer.from('STOP', 'latin1') }, 'gsm'),
    textOf({ esmClass: 0, dataCoding: 0, shortMessage: Buffer.from('STOP', 'latin1') }, 'latin1'),
  ];
  assert.deepEqual(stop, Array(stop.length).fill('STOP'));
});

test('smart folding: typographic characters to GSM only when that makes the text GSM', () => {
  assert.equal(foldToGsm('It’s “fine” – really…\u00a0ok'), 'It\'s "fine" - really... ok');
  assert.equal(foldToGsm('plain text'), undefined);
  assert.equal(foldToGsm('It’s ✓'), undefined);
});

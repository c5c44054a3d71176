// parseSmppTime and formatSmppTime (SMPP 3.4 §7.1.1): "YYMMDDhhmmsstnnp", absolute with a ± offset in quarter hours
// from UTC, or relative (p = R); anything else is undefined.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReceiptDate, formatSmppTime, parseSmppTime } from '../../../src/smpp/time.js';

const NOW = Date.UTC(2024, 2, 10, 12, 0, 0);
const HOUR = 3_600_000;

test('absolute, UTC: "+" with 00 quarter hours', () => {
  assert.equal(parseSmppTime('240310120000000+', NOW), Date.UTC(2024, 2, 10, 12, 0, 0));
  assert.equal(parseSmppTime('991231235959900+', NOW), Date.UTC(2099, 11, 31, 23, 59, 59, 900), 'YY is 20YY; t is tenths of a second');
  assert.equal(parseSmppTime('000101000000000-', NOW), Date.UTC(2000, 0, 1), '"-00" is UTC too');
});

test('absolute with an offset: local time ahead of UTC ("+") is earlier in UTC, behind ("-") later', () => {
  // 12:00 local at UTC+1 (4 quarter hours) is 11:00 UTC.
  assert.equal(parseSmppTime('240310120000004+', NOW), Date.UTC(2024, 2, 10, 11, 0));
  // 12:00 local at UTC-5 (20 quarter hours) is 17:00 UTC.
  assert.equal(parseSmppTime('240310120000020-', NOW), Date.UTC(2024, 2, 10, 17, 0));
  // Quarter hours: UTC+5:45 (Nepal, 23) and UTC-3:30 (Newfoundland, 14).
  assert.equal(parseSmppTime('240310120000023+', NOW), Date.UTC(2024, 2, 10, 6, 15));
  assert.equal(parseSmppTime('240310120000014-', NOW), Date.UTC(2024, 2, 10, 15, 30));
  // The largest offset, 12 hours, crossing the date line.
  assert.equal(parseSmppTime('240310010000048+', NOW), Date.UTC(2024, 2, 9, 13, 0));
  assert.equal(parseSmppTime('240310230000048-', NOW), Date.UTC(2024, 2, 11, 11, 0));
});

test('absolute does not depend on now', () => {
  assert.equal(parseSmppTime('240310120000000+', 0), parseSmppTime('240310120000000+', NOW));
});

test('relative: a duration from now, years and months as 365 and 30 days', () => {
  assert.equal(parseSmppTime('000000000000000R', NOW), NOW);
  assert.equal(parseSmppTime('000000010000000R', NOW), NOW + HOUR);
  assert.equal(parseSmppTime('000001000000000R', NOW), NOW + 24 * HOUR);
  assert.equal(parseSmppTime('000000001500000R', NOW), NOW + 15 * 60_000);
  assert.equal(parseSmppTime('000000000030000R', NOW), NOW + 30_000);
  assert.equal(parseSmppTime('000000000000500R', NOW), NOW + 500, 'tenths');
  assert.equal(parseSmppTime('000100000000000R', NOW), NOW + 30 * 24 * HOUR);
  assert.equal(parseSmppTime('010000000000000R', NOW), NOW + 365 * 24 * HOUR);
  assert.equal(parseSmppTime('010203040506700R', NOW), NOW + ((((365 + 60 + 3) * 24 + 4) * 60 + 5) * 60 + 6) * 1000 + 700);
  // Fields beyond their absolute range are just bigger durations.
  assert.equal(parseSmppTime('000000480000000R', NOW), NOW + 48 * HOUR);
});

test('invalid → undefined: empty, wrong length, wrong characters, wrong sign', () => {
  const bad = [
    '',
    '240310120000000',
    '240310120000000+ ',
    ' 240310120000000+',
    '24031012000000+',
    '2403101200000000+',
    '24031012000000a+',
    '240310120000000Z',
    '240310120000000r',
    '２40310120000000+',
    '-240310120000000',
  ];
  for (const v of bad) assert.equal(parseSmppTime(v, NOW), undefined, JSON.stringify(v));
});

test('invalid → undefined: absolute fields out of range', () => {
  const bad = [
    '241310120000000+', // month 13
    '240010120000000+', // month 0
    '240300120000000+', // day 0
    '240332120000000+', // day 32
    '240310240000000+', // hour 24
    '240310126000000+', // minute 60
    '240310120060000+', // second 60
    '240310120000049+', // offset beyond 12 hours
    '240310120000099-',
  ];
  for (const v of bad) assert.equal(parseSmppTime(v, NOW), undefined, v);
});

test('edges that are valid', () => {
  assert.equal(parseSmppTime('240229000000000+', NOW), Date.UTC(2024, 1, 29), '29 February in a leap year');
  assert.equal(parseSmppTime('241231235959900+', NOW), Date.UTC(2024, 11, 31, 23, 59, 59, 900));
});

test('invalid → undefined: a day the month does not have', () => {
  for (const v of ['250229120000000+', '240230120000000+', '250231120000000+', '240431120000000+', '241131000000000-']) {
    assert.equal(parseSmppTime(v, NOW), undefined, v);
  }
});

test('formatReceiptDate: YYMMDDhhmm in UTC', () => {
  assert.equal(formatReceiptDate(Date.UTC(2024, 2, 10, 12, 1, 59)), '2403101201');
  assert.equal(formatReceiptDate(Date.UTC(2009, 0, 2, 3, 4)), '0901020304');
  assert.equal(formatReceiptDate(Date.UTC(2100, 11, 31, 23, 59)), '0012312359');
});

test('formatSmppTime: absolute UTC in whole seconds, read back by parseSmppTime', () => {
  assert.equal(formatSmppTime(Date.UTC(2024, 2, 10, 12, 1, 59, 999)), '240310120159000+');
  assert.equal(formatSmppTime(Date.UTC(2009, 0, 2, 3, 4, 5)), '090102030405000+');
  assert.equal(formatSmppTime(Date.UTC(2000, 0, 1)), '000101000000000+');
  for (const ms of [Date.UTC(2024, 1, 29, 23, 59, 59), Date.UTC(2031, 11, 31, 0, 0, 7), NOW]) {
    assert.equal(parseSmppTime(formatSmppTime(ms), 0), ms, new Date(ms).toISOString());
  }
  assert.equal(parseSmppTime(formatSmppTime(NOW + 1_500), 0), NOW + 1_000, 'tenths dropped');
});

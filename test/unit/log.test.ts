// The log: JSON lines that stay one line and inert whatever a peer puts in a string.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, escapeLogLine } from '../../src/log.js';

test('C1 controls, DEL and the Unicode line separators in logged strings are escaped; the line parses back to the same values', () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  const log = createLogger({ level: 'info' }, sink);
  const hostile = 'a\u0085b\u009b31mc\u007f\u2028\u2029\u0000\nz é';
  log.warn({ systemId: hostile, password: 'secret' }, `bind refused for ${hostile}`);
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  assert.equal(line.split(/[\n\r\u0085\u2028\u2029]/).length, 2, 'one line, ended by its newline');
  assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u2028\u2029](?!$)/u, 'no raw control characters');
  const obj = JSON.parse(line) as { systemId: string; msg: string; password: string };
  assert.equal(obj.systemId, hostile, 'the same string once parsed');
  assert.equal(obj.msg, `bind refused for ${hostile}`);
  assert.equal(obj.password, '[redacted]');
});

test('escapeLogLine leaves ordinary text (ASCII, accents, emoji) alone', () => {
  const s = '{"msg":"Grüße 👋 \\" ok"}\n';
  assert.equal(escapeLogLine(s), s);
});

// The log: JSON lines that stay one line and inert whatever a peer puts in a string.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, escapeLogLine, LogSink } from '../../src/log.js';
import { waitFor } from '../helpers/wait.js';

test('C1 controls, DEL and the Unicode line separators in logged strings are escaped; the line parses back to the same values', () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  const log = createLogger({ level: 'info' }, sink);
  const hostile = 'a\u0085b\u009b31mc\u007f\u2028\u2029\u0000\nz é';
  log.warn({ systemId: hostile, password: 'secret' }, `bind refused for ${hostile}`);
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  assert.equal(line.split(/[\n\r\u0085\u2028\u2029]/).length, 2, 'one line, ended by its newline');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
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

test('LogSink on a device that is always full (/dev/full: ENOSPC) drops and counts lines, never throws, never blocks', async () => {
  const fd = openSync('/dev/full', 'w');
  try {
    const sink = new LogSink(fd, 4096);
    const log = createLogger({ level: 'info' }, sink);
    for (let i = 0; i < 500; i++) log.info({ i }, 'a line that cannot be written');
    // Lines beyond the bound are dropped at once; the one in flight fails in the thread pool.
    assert.ok(sink.dropped > 400, `dropped at once: ${sink.dropped}`);
    await waitFor(() => sink.dropped === 500, 'every line dropped and counted', 5_000);
    sink.flushSync(); // the exit path: no retry loop
    assert.equal(sink.dropped, 500);
  } finally {
    closeSync(fd);
  }
});

test('LogSink writes every line (joined into chunks), and flushSync writes what waits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smppgw-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'out.log');
  const fd = openSync(file, 'a');
  try {
    const sink = new LogSink(fd);
    const log = createLogger({ level: 'info' }, sink);
    for (let i = 0; i < 2_000; i++) log.info({ i }, 'line');
    await waitFor(() => readFileSync(file, 'utf8').split('\n').length > 1_000, 'some written', 5_000);
    for (let i = 2_000; i < 2_100; i++) log.info({ i }, 'line');
    sink.flushSync();
    await waitFor(() => readFileSync(file, 'utf8').split('\n').length === 2_101, 'all written', 5_000);
    const seen = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { i: number }).i);
    assert.deepEqual(
      seen.slice().sort((a, b) => a - b),
      Array.from({ length: 2_100 }, (_, i) => i),
    );
    assert.equal(sink.dropped, 0);
  } finally {
    closeSync(fd);
  }
});

// A child process's output, line by line ('\n' only: a raw CR or U+2028 inside a line stays in it,
// where the log checks can see it).
import type { Readable } from 'node:stream';

/** Calls `onLine` with each line of `stream` (utf8), without its '\n'; with `flushPartial`, also an unterminated last line at the end. */
export function eachLine(stream: Readable, onLine: (line: string) => void, options: { flushPartial?: boolean } = {}): void {
  let buf = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      onLine(line);
    }
  });
  if (options.flushPartial) {
    stream.once('end', () => {
      if (buf.length > 0) onLine(buf);
      buf = '';
    });
  }
}

// Deliberately damaged database files, for the checks that must refuse them.
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';

/**
 * Overwrites the second quarter of a database file (a checkpointed one: no -wal) with a repeating
 * garbage pattern, leaving its header page alone: SQLite still opens it, its checks do not pass.
 */
export function damagePages(path: string, pageSize = 4096): void {
  const fd = openSync(path, 'r+');
  try {
    const pages = Math.floor(fstatSync(fd).size / pageSize);
    if (pages < 8) throw new Error(`${path} has only ${pages} pages: too small to damage meaningfully`);
    const garbage = Buffer.alloc(pageSize, 0);
    for (let i = 0; i < pageSize; i++) garbage[i] = (i * 131 + 7) & 0xff;
    for (let page = Math.floor(pages / 4); page < Math.floor(pages / 2); page++) writeSync(fd, garbage, 0, pageSize, page * pageSize);
  } finally {
    closeSync(fd);
  }
}

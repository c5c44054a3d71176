// File operations the store's pieces share: a file only this process created (exclusively, mode
// 0600 whatever the umask), a path made durable, and a removal that does not mind the file's absence.
import { closeSync, fchmodSync, fsyncSync, openSync, unlinkSync } from 'node:fs';

/** Creates an empty file at `path`, never through an existing one, readable by this user only. */
export function createPrivateFile(path: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600); // the umask may have taken more than asked; this file is ours
  } finally {
    closeSync(fd);
  }
}

/** fsync of a file or a directory (a directory: its entries, after a create or a rename). */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes `path` if it is there. */
export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* not there */
  }
}

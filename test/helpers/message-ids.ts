// The gateway's message ids as its accounts see them, read back to ledger rows from its database
// (the key and the old ids' range are in its meta table).
import Database from 'better-sqlite3';
import { MessageIds, type IdFormat } from '../../src/messages/ids.js';
import { readIdState } from '../../src/store/meta.js';

/** The ids of the database at `path` (read-only; allocation is not for tests). */
export function idsOfDb(path: string): MessageIds {
  const d = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const s = readIdState(d);
    return new MessageIds({
      node: 0,
      key: s.key,
      legacyMax: s.legacyMax,
      maxRowId: s.maxRowId,
      lastEpoch: s.lastEpoch,
      now: Date.now,
      saveEpoch: () => undefined,
    });
  } finally {
    d.close();
  }
}

/** The ledger row of an id the gateway gave (NaN when it names none), hex by default. */
export function rowOf(ids: MessageIds, messageId: string, format: IdFormat = 'hex'): number {
  return ids.parse(messageId, format) ?? Number.NaN;
}

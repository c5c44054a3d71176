// Message ids on a database: the key, the old ids' range and the last epoch come from its meta table.
import { epochSaver, readIdState } from '../store/meta.js';
import type { Db } from '../store/db.js';
import { MessageIds } from './ids.js';

export function messageIdsFor(db: Db, o: { node: number; now?: () => number }): MessageIds {
  const s = readIdState(db);
  return new MessageIds({
    node: o.node,
    key: s.key,
    legacyMax: s.legacyMax,
    maxRowId: s.maxRowId,
    lastEpoch: s.lastEpoch,
    now: o.now ?? Date.now,
    saveEpoch: epochSaver(db),
  });
}

// The meta table: small facts about the database itself (the message id key and epochs).
import type { Db } from './db.js';

/** What message id allocation keeps in the database (src/messages/ids.ts). */
export interface IdState {
  key: Buffer;
  /** The highest row number handed out before keyed ids (they stay shown as plain numbers). */
  legacyMax: number;
  /** The last epoch a block of ids was taken in. */
  lastEpoch: number;
  /** The highest row number in the ledger now. */
  maxRowId: number;
}

export function readIdState(db: Db): IdState {
  const get = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
  return {
    key: get.get('ids.key') as Buffer,
    legacyMax: get.get('ids.legacy_max') as number,
    lastEpoch: get.get('ids.epoch') as number,
    maxRowId: db.prepare('SELECT COALESCE(MAX(id), 0) FROM messages').pluck().get() as number,
  };
}

/** Records a newly taken epoch (inside the ledger's transaction when ids are allocated there). */
export function epochSaver(db: Db): (epoch: number) => void {
  const save = db.prepare("UPDATE meta SET value = ? WHERE key = 'ids.epoch'");
  return (epoch) => void save.run(epoch);
}

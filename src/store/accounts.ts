// ESME accounts: who may bind, how, from where, and at what rate. Each has an internal id that
// is never reused: its messages and outbox items belong to that id, not to the system_id, so a
// re-created account starts with nothing of the old one's. Removing an account keeps its row as a
// tombstone (for billing) and refuses while it still has work here, unless purged.
import { MessageState } from '../smpp/message-state.js';
import { InvalidInputError } from '../errors.js';
import { DEFAULT_ALPHABETS, type DefaultAlphabet } from '../text/codings.js';
import { hashPassword, parseCidr } from './credentials.js';
import { bumpConfigVersion, type Db } from './db.js';
import { checkOctets } from './octets.js';

export type BindType = 'tx' | 'rx' | 'trx';
export const BIND_TYPES: readonly BindType[] = ['tx', 'rx', 'trx'];

export interface Account {
  /** Internal, never reused: what the account's messages and outbox items belong to. */
  id: number;
  systemId: string;
  passwordHash: string;
  /** Messages per second accepted from this account over all its binds; 0: no limit. */
  tps: number;
  /** submit_sm a bind may have open with us at once. */
  window: number;
  maxBinds: number;
  /** CIDR blocks allowed to bind; empty: any address. */
  allow: string[];
  bindTypes: BindType[];
  /** How this account sees its message ids. */
  idFormat: 'hex' | 'dec';
  /** The highest priority_flag honoured (0..3): above 0 its flagged messages take a connector's priority lane. */
  maxPriority: number;
  /** What data_coding 0 means in this account's messages, MOs and receipts. */
  dc0: DefaultAlphabet;
  /** Fold typographic characters (’ “ ” – … no-break space) to GSM when that makes a UCS2 message GSM. */
  fold: boolean;
  /** The most parts a message may have; a longer one is refused (ESME_RINVMSGLEN). */
  maxParts: number;
  enabled: boolean;
}

export interface RemovedAccount {
  id: number;
  /** Queued messages ended DELETED by --purge. */
  deletedMessages: number;
  /** Receipts and MOs dropped by --purge. */
  droppedOutbox: number;
}

export interface AccountInput {
  password?: string;
  tps?: number;
  window?: number;
  maxBinds?: number;
  allow?: string[];
  bindTypes?: BindType[];
  idFormat?: 'hex' | 'dec';
  maxPriority?: number;
  dc0?: DefaultAlphabet;
  fold?: boolean;
  maxParts?: number;
  enabled?: boolean;
}

interface Row {
  id: number;
  system_id: string;
  password_hash: string;
  tps: number;
  window: number;
  max_binds: number;
  allow: string;
  bind_types: string;
  id_format: 'hex' | 'dec';
  max_priority: number;
  dc0: DefaultAlphabet;
  fold: number;
  max_parts: number;
  enabled: number;
}

function fromRow(r: Row): Account {
  return {
    id: r.id,
    systemId: r.system_id,
    passwordHash: r.password_hash,
    tps: r.tps,
    window: r.window,
    maxBinds: r.max_binds,
    allow: r.allow ? r.allow.split(',') : [],
    bindTypes: r.bind_types.split(',') as BindType[],
    idFormat: r.id_format,
    maxPriority: r.max_priority,
    dc0: r.dc0,
    fold: r.fold === 1,
    maxParts: r.max_parts,
    enabled: r.enabled === 1,
  };
}

function check(input: AccountInput): void {
  // SMPP 3.4 carries at most 8 password octets (9 with the NUL); a character that is not one octet never matches.
  if (input.password !== undefined) checkOctets(input.password, 'password', 1, 8);
  if (input.tps !== undefined && !(Number.isFinite(input.tps) && input.tps >= 0)) throw new InvalidInputError('tps must be a number ≥ 0 (0: no limit)');
  if (input.window !== undefined && !(Number.isInteger(input.window) && input.window >= 1)) throw new InvalidInputError('window must be a whole number ≥ 1');
  if (input.maxBinds !== undefined && !(Number.isInteger(input.maxBinds) && input.maxBinds >= 1))
    throw new InvalidInputError('max binds must be a whole number ≥ 1');
  for (const c of input.allow ?? []) {
    try {
      parseCidr(c);
    } catch (err) {
      throw new InvalidInputError((err as Error).message);
    }
  }
  for (const t of input.bindTypes ?? []) if (!BIND_TYPES.includes(t)) throw new InvalidInputError(`bind type ${t} is not one of ${BIND_TYPES.join(', ')}`);
  if (input.bindTypes !== undefined && input.bindTypes.length === 0) throw new InvalidInputError('at least one bind type must be allowed');
  if (input.maxPriority !== undefined && !(Number.isInteger(input.maxPriority) && input.maxPriority >= 0 && input.maxPriority <= 3)) {
    throw new InvalidInputError('max priority must be 0, 1, 2 or 3 (an SMPP priority_flag)');
  }
  if (input.dc0 !== undefined && !DEFAULT_ALPHABETS.includes(input.dc0)) throw new InvalidInputError(`dc0 must be one of ${DEFAULT_ALPHABETS.join(', ')}`);
  if (input.maxParts !== undefined && !(Number.isInteger(input.maxParts) && input.maxParts >= 1 && input.maxParts <= 255)) {
    throw new InvalidInputError('max parts must be a whole number from 1 to 255');
  }
  if (input.idFormat !== undefined && input.idFormat !== 'hex' && input.idFormat !== 'dec') throw new InvalidInputError('id format must be hex or dec');
}

export class AccountStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  add(systemId: string, input: AccountInput & { password: string }): Account {
    if (!/^[\x21-\x7e]{1,15}$/.test(systemId)) throw new InvalidInputError('system_id must be 1 to 15 printable ASCII characters');
    check(input);
    if (this.get(systemId)) throw new InvalidInputError(`account ${systemId} exists already`);
    const t = this.now();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO accounts (system_id, password_hash, tps, window, max_binds, allow, bind_types, id_format, max_priority, dc0, fold, max_parts, enabled, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          systemId,
          hashPassword(input.password),
          input.tps ?? 0,
          input.window ?? 10,
          input.maxBinds ?? 4,
          (input.allow ?? []).join(','),
          (input.bindTypes ?? BIND_TYPES).join(','),
          input.idFormat ?? 'hex',
          input.maxPriority ?? 0,
          input.dc0 ?? 'gsm',
          input.fold ? 1 : 0,
          input.maxParts ?? 10,
          input.enabled === false ? 0 : 1,
          t,
          t,
        );
      bumpConfigVersion(this.db);
    })();
    return this.get(systemId)!;
  }

  set(systemId: string, input: AccountInput): Account {
    check(input);
    const current = this.get(systemId);
    if (!current) throw new InvalidInputError(`no account ${systemId}`);
    const next = { ...current, ...input };
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE accounts SET password_hash = ?, tps = ?, window = ?, max_binds = ?, allow = ?, bind_types = ?, id_format = ?, max_priority = ?, dc0 = ?, fold = ?, max_parts = ?,
           enabled = ?, updated_at = ?
           WHERE id = ?`,
        )
        .run(
          input.password !== undefined ? hashPassword(input.password) : current.passwordHash,
          next.tps,
          next.window,
          next.maxBinds,
          next.allow.join(','),
          next.bindTypes.join(','),
          next.idFormat,
          next.maxPriority,
          next.dc0,
          next.fold ? 1 : 0,
          next.maxParts,
          next.enabled ? 1 : 0,
          this.now(),
          current.id,
        );
      bumpConfigVersion(this.db);
    })();
    return this.get(systemId)!;
  }

  /**
   * Removes a live account. Refused while routes name it, and while messages of it are queued or
   * receipts/MOs wait for it, unless `purge`: then the queued messages end DELETED and the outbox
   * items are dropped. The row stays as a tombstone: its messages keep their owner for billing,
   * and no later account (even one with the same system_id) sees them.
   */
  remove(systemId: string, options: { purge?: boolean } = {}): RemovedAccount | undefined {
    return this.db.transaction((): RemovedAccount | undefined => {
      const account = this.get(systemId);
      if (!account) return undefined;
      const mt = this.db.prepare('SELECT id FROM mt_routes WHERE account = ?').pluck().all(systemId) as number[];
      const mo = this.db.prepare('SELECT id FROM mo_routes WHERE account = ?').pluck().all(systemId) as number[];
      const uses = [mt.length ? `MT route(s) ${mt.join(', ')}` : '', mo.length ? `MO route(s) ${mo.join(', ')}` : ''].filter(Boolean);
      if (uses.length > 0) throw new InvalidInputError(`account ${systemId} is used by ${uses.join(' and ')}; remove or change them first`);
      const queued = this.db.prepare('SELECT COUNT(*) FROM messages WHERE account_id = ? AND state = 0').pluck().get(account.id) as number;
      const waiting = this.db.prepare('SELECT COUNT(*) FROM outbox WHERE account_id = ?').pluck().get(account.id) as number;
      if ((queued > 0 || waiting > 0) && !options.purge) {
        throw new InvalidInputError(
          `account ${systemId} has ${queued} queued message(s) and ${waiting} receipt(s)/MO(s) waiting; ` +
            `--purge ends the messages as DELETED and drops the receipts/MOs`,
        );
      }
      const t = this.now();
      if (queued > 0) this.db.prepare('UPDATE messages SET state = ?, done_at = ? WHERE account_id = ? AND state = 0').run(MessageState.DELETED, t, account.id);
      if (waiting > 0) this.db.prepare('DELETE FROM outbox WHERE account_id = ?').run(account.id);
      this.db.prepare("UPDATE accounts SET removed_at = ?, updated_at = ?, password_hash = '', enabled = 0 WHERE id = ?").run(t, t, account.id);
      bumpConfigVersion(this.db);
      return { id: account.id, deletedMessages: queued, droppedOutbox: waiting };
    })();
  }

  get(systemId: string): Account | undefined {
    const row = this.db.prepare('SELECT * FROM accounts WHERE system_id = ? AND removed_at IS NULL').get(systemId) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Live accounts. */
  list(): Account[] {
    return (this.db.prepare('SELECT * FROM accounts WHERE removed_at IS NULL ORDER BY system_id').all() as Row[]).map(fromRow);
  }
}

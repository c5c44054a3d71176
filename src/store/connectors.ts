// Carrier SMSC connectors: where to bind, as whom, how, and at what rate. The password (ours at the
// carrier, needed in clear to bind) is stored sealed (secrets.ts); only withPasswords() opens it.
import { GatewayError, InvalidInputError, SecretError } from '../errors.js';
import { bumpConfigVersion, type Db } from './db.js';
import { checkOctets } from './octets.js';
import { isSealed, KeyRing, sealedKeyId } from './secrets.js';
import { DEFAULT_ALPHABETS, type DefaultAlphabet } from '../text/codings.js';

export interface Connector {
  id: string;
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType: string;
  /** One transceiver, or a transmitter + receiver pair. */
  bind: 'trx' | 'txrx';
  /** Messages per second towards this SMSC; 0: no limit. */
  tps: number;
  window: number;
  tls: boolean;
  /** How this SMSC writes message ids in receipts: `auto` as in submit_sm_resp; `hex`/`dec`: in that base (see dlr/ids.ts). */
  dlrId: 'hex' | 'dec' | 'auto';
  /** What a submit_sm response timeout means here: reconnect (after some in a row), requeue, wait (never send again). */
  onTimeout: OnTimeout;
  /** priority_flag goes to the carrier as the account sent it (true, the default) or as 0. */
  forwardPriority: boolean;
  /** schedule_delivery_time: forwarded to the carrier (as before), or held here and sent when due. */
  schedule: Schedule;
  /** What this carrier means by data_coding 0 (text is transcoded where an account means another). */
  dc0: DefaultAlphabet;
  enabled: boolean;
}

export const SCHEDULE = ['forward', 'hold'] as const;
export type Schedule = (typeof SCHEDULE)[number];

export const ON_TIMEOUT = ['reconnect', 'requeue', 'wait'] as const;
export type OnTimeout = (typeof ON_TIMEOUT)[number];

export type ConnectorInput = Partial<Omit<Connector, 'id'>>;

/** A connector as listed and shown: everything but the password. */
export type ConnectorInfo = Omit<Connector, 'password'>;

/** What withPasswords() could not open, and the row's updated_at (a changed row is a new problem). */
export interface UnreadableConnector {
  id: string;
  error: GatewayError;
  updatedAt: number;
}

interface Row {
  id: string;
  host: string;
  port: number;
  system_id: string;
  password: string;
  system_type: string;
  bind: 'trx' | 'txrx';
  tps: number;
  window: number;
  tls: number;
  dlr_id: 'hex' | 'dec' | 'auto';
  on_timeout: OnTimeout;
  forward_priority: number;
  schedule: Schedule;
  dc0: DefaultAlphabet;
  enabled: number;
  updated_at: number;
}

function fromRow(r: Row): ConnectorInfo {
  return {
    id: r.id,
    host: r.host,
    port: r.port,
    systemId: r.system_id,
    systemType: r.system_type,
    bind: r.bind,
    tps: r.tps,
    window: r.window,
    tls: r.tls === 1,
    dlrId: r.dlr_id,
    onTimeout: r.on_timeout,
    forwardPriority: r.forward_priority === 1,
    schedule: r.schedule,
    dc0: r.dc0,
    enabled: r.enabled === 1,
  };
}

/** The associated data a password is sealed with: its row, so it opens nowhere else. */
const rowOf = (id: string) => `connector:${id}`;

/** Passwords are at most 8 characters, a sealed value far longer: a short value is one stored before sealing. */
const isPlain = (stored: string) => stored.length <= 8;

function check(c: ConnectorInput): void {
  if (c.host !== undefined && c.host.trim() === '') throw new InvalidInputError('host must not be empty');
  if (c.port !== undefined && !(Number.isInteger(c.port) && c.port >= 1 && c.port <= 65_535)) throw new InvalidInputError('port must be 1..65535');
  if (c.systemId !== undefined && !/^[\x21-\x7e]{1,15}$/.test(c.systemId)) throw new InvalidInputError('system id must be 1 to 15 printable ASCII characters');
  if (c.password !== undefined) checkOctets(c.password, 'password', 0, 8);
  if (c.systemType !== undefined) checkOctets(c.systemType, 'system type', 0, 12);
  if (c.bind !== undefined && c.bind !== 'trx' && c.bind !== 'txrx') throw new InvalidInputError('bind must be trx or txrx');
  if (c.tps !== undefined && !(Number.isFinite(c.tps) && c.tps >= 0)) throw new InvalidInputError('tps must be a number ≥ 0 (0: no limit)');
  if (c.window !== undefined && !(Number.isInteger(c.window) && c.window >= 1)) throw new InvalidInputError('window must be a whole number ≥ 1');
  if (c.dlrId !== undefined && !['hex', 'dec', 'auto'].includes(c.dlrId)) throw new InvalidInputError('dlr id must be hex, dec or auto');
  if (c.onTimeout !== undefined && !ON_TIMEOUT.includes(c.onTimeout)) throw new InvalidInputError('on timeout must be reconnect, requeue or wait');
  if (c.schedule !== undefined && !SCHEDULE.includes(c.schedule)) throw new InvalidInputError('schedule must be forward or hold');
  if (c.dc0 !== undefined && !DEFAULT_ALPHABETS.includes(c.dc0)) throw new InvalidInputError(`dc0 must be one of ${DEFAULT_ALPHABETS.join(', ')}`);
}

export class ConnectorStore {
  private readonly keys: KeyRing;

  /**
   * `keys`: the daemon and the CLI pass keyRingFor(config); without it, the environment's key or
   * the key file beside the database.
   */
  constructor(
    private readonly db: Db,
    keys?: KeyRing,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = keys ?? new KeyRing({ dbPath: db.name, keyFile: '', previousKeyFiles: '' });
  }

  add(id: string, input: ConnectorInput & Pick<Connector, 'host' | 'port' | 'systemId' | 'password'>): ConnectorInfo {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new InvalidInputError('connector id must be 1 to 64 of A-Z a-z 0-9 _ . -');
    check(input);
    if (this.get(id)) throw new InvalidInputError(`connector ${id} exists already`);
    const t = this.now();
    const sealed = this.keys.seal(input.password, rowOf(id));
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO connectors (id, host, port, system_id, password, system_type, bind, tps, window, tls, dlr_id, on_timeout, forward_priority, schedule, dc0, enabled, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          input.host,
          input.port,
          input.systemId,
          sealed,
          input.systemType ?? '',
          input.bind ?? 'trx',
          input.tps ?? 0,
          input.window ?? 10,
          input.tls ? 1 : 0,
          input.dlrId ?? 'auto',
          input.onTimeout ?? 'reconnect',
          input.forwardPriority === false ? 0 : 1,
          input.schedule ?? 'forward',
          input.dc0 ?? 'gsm',
          input.enabled === false ? 0 : 1,
          t,
          t,
        );
      bumpConfigVersion(this.db);
    })();
    return this.get(id)!;
  }

  /** Changes what is given; the stored password is left as it is unless a new one is given (no key needed then). */
  set(id: string, input: ConnectorInput): ConnectorInfo {
    check(input);
    const current = this.get(id);
    if (!current) throw new InvalidInputError(`no connector ${id}`);
    const n = { ...current, ...input };
    const sealed = input.password !== undefined ? this.keys.seal(input.password, rowOf(id)) : null;
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE connectors SET host = ?, port = ?, system_id = ?, password = coalesce(?, password), system_type = ?, bind = ?, tps = ?, window = ?, tls = ?,
           dlr_id = ?, on_timeout = ?, forward_priority = ?, schedule = ?, dc0 = ?, enabled = ?, updated_at = ? WHERE id = ?`,
        )
        .run(
          n.host,
          n.port,
          n.systemId,
          sealed,
          n.systemType,
          n.bind,
          n.tps,
          n.window,
          n.tls ? 1 : 0,
          n.dlrId,
          n.onTimeout,
          n.forwardPriority ? 1 : 0,
          n.schedule,
          n.dc0,
          n.enabled ? 1 : 0,
          this.now(),
          id,
        );
      bumpConfigVersion(this.db);
    })();
    return this.get(id)!;
  }

  /** Refuses while an MT route still names the connector. */
  remove(id: string): boolean {
    return this.db.transaction(() => {
      const users = (this.db.prepare('SELECT id, connectors FROM mt_routes').all() as Array<{ id: number; connectors: string }>)
        .filter((r) => r.connectors.split(',').some((c) => c.split(':')[0] === id))
        .map((r) => r.id);
      const moUsers = this.db.prepare('SELECT id FROM mo_routes WHERE connector = ?').pluck().all(id) as number[];
      const uses = [users.length ? `MT route(s) ${users.join(', ')}` : '', moUsers.length ? `MO route(s) ${moUsers.join(', ')}` : ''].filter(Boolean);
      if (uses.length > 0) throw new InvalidInputError(`connector ${id} is used by ${uses.join(' and ')}; remove or change them first`);
      const changed = this.db.prepare('DELETE FROM connectors WHERE id = ?').run(id).changes > 0;
      if (changed) bumpConfigVersion(this.db);
      return changed;
    })();
  }

  /** Never opens the password: works without the key. */
  get(id: string): ConnectorInfo | undefined {
    const row = this.db.prepare('SELECT * FROM connectors WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  list(): ConnectorInfo[] {
    return (this.db.prepare('SELECT * FROM connectors ORDER BY id').all() as Row[]).map(fromRow);
  }

  /**
   * For binding: the enabled connectors with their passwords opened, and those whose password
   * cannot be opened (missing or wrong key, altered value), which the daemon leaves down.
   */
  withPasswords(): { connectors: Connector[]; unreadable: UnreadableConnector[] } {
    const connectors: Connector[] = [];
    const unreadable: UnreadableConnector[] = [];
    for (const r of this.db.prepare('SELECT * FROM connectors WHERE enabled = 1 ORDER BY id').all() as Row[]) {
      try {
        connectors.push({ ...fromRow(r), password: this.open(r) });
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err;
        unreadable.push({ id: r.id, error: err, updatedAt: r.updated_at });
      }
    }
    return { connectors, unreadable };
  }

  /**
   * Seals passwords stored in clear (databases from before sealing); with `all`, also moves those
   * sealed under a previous key to the current one (`smppgw connector rekey`). One transaction:
   * a password that cannot be opened fails the whole run, naming its connector, and changes nothing.
   * Returns how many rows changed and the current key's id.
   */
  reseal(all: boolean): { changed: number; plain: number; keyId: string | undefined } {
    let changed = 0;
    let plain = 0;
    let keyId: string | undefined;
    this.db
      .transaction(() => {
        const rows = this.db.prepare('SELECT * FROM connectors ORDER BY id').all() as Row[];
        // Only what needs it touches the key: a daemon on a database without plain passwords creates no key file.
        if (!all && !rows.some((r) => isPlain(r.password))) return;
        keyId = this.keys.currentId();
        for (const r of rows) {
          const wasPlain = isPlain(r.password);
          if (!wasPlain && (!all || sealedKeyId(r.password) === keyId)) continue;
          this.db.prepare('UPDATE connectors SET password = ? WHERE id = ?').run(this.keys.seal(this.open(r), rowOf(r.id)), r.id);
          changed++;
          if (wasPlain) plain++;
        }
        // The daemon rereads the table and so shows at once whether it can open the new values.
        if (all && changed > 0) bumpConfigVersion(this.db);
      })
      .immediate();
    return { changed, plain, keyId };
  }

  private open(r: Row): string {
    if (isPlain(r.password)) return r.password;
    if (!isSealed(r.password))
      throw new SecretError('SECRET_UNREADABLE', `connector ${r.id}: the stored password is neither sealed (enc:v1:…) nor a plain SMPP password`);
    return this.keys.open(r.password, rowOf(r.id), `connector ${r.id}`);
  }
}

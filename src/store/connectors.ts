// Carrier SMSC connectors: where to bind, as whom, how, and at what rate.
import { InvalidInputError } from '../errors.js';
import { bumpConfigVersion, type Db } from './db.js';

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
  enabled: boolean;
}

export type ConnectorInput = Partial<Omit<Connector, 'id'>>;

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
  enabled: number;
}

function fromRow(r: Row): Connector {
  return {
    id: r.id, host: r.host, port: r.port, systemId: r.system_id, password: r.password, systemType: r.system_type,
    bind: r.bind, tps: r.tps, window: r.window, tls: r.tls === 1, dlrId: r.dlr_id, enabled: r.enabled === 1,
  };
}

function check(c: ConnectorInput): void {
  if (c.host !== undefined && c.host.trim() === '') throw new InvalidInputError('host must not be empty');
  if (c.port !== undefined && !(Number.isInteger(c.port) && c.port >= 1 && c.port <= 65_535)) throw new InvalidInputError('port must be 1..65535');
  if (c.systemId !== undefined && !/^[\x21-\x7e]{1,15}$/.test(c.systemId)) throw new InvalidInputError('system id must be 1 to 15 printable ASCII characters');
  if (c.password !== undefined && c.password.length > 8) throw new InvalidInputError('password must be at most 8 characters (the SMPP maximum)');
  if (c.systemType !== undefined && c.systemType.length > 12) throw new InvalidInputError('system type must be at most 12 characters');
  if (c.bind !== undefined && c.bind !== 'trx' && c.bind !== 'txrx') throw new InvalidInputError('bind must be trx or txrx');
  if (c.tps !== undefined && !(Number.isFinite(c.tps) && c.tps >= 0)) throw new InvalidInputError('tps must be a number ≥ 0 (0: no limit)');
  if (c.window !== undefined && !(Number.isInteger(c.window) && c.window >= 1)) throw new InvalidInputError('window must be a whole number ≥ 1');
  if (c.dlrId !== undefined && !['hex', 'dec', 'auto'].includes(c.dlrId)) throw new InvalidInputError('dlr id must be hex, dec or auto');
}

export class ConnectorStore {
  constructor(private readonly db: Db, private readonly now: () => number = Date.now) {}

  add(id: string, input: ConnectorInput & Pick<Connector, 'host' | 'port' | 'systemId' | 'password'>): Connector {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new InvalidInputError('connector id must be 1 to 64 of A-Z a-z 0-9 _ . -');
    check(input);
    if (this.get(id)) throw new InvalidInputError(`connector ${id} exists already`);
    const t = this.now();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO connectors (id, host, port, system_id, password, system_type, bind, tps, window, tls, dlr_id, enabled, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, input.host, input.port, input.systemId, input.password, input.systemType ?? '', input.bind ?? 'trx', input.tps ?? 0,
          input.window ?? 10, input.tls ? 1 : 0, input.dlrId ?? 'auto', input.enabled === false ? 0 : 1, t, t);
      bumpConfigVersion(this.db);
    })();
    return this.get(id)!;
  }

  set(id: string, input: ConnectorInput): Connector {
    check(input);
    const current = this.get(id);
    if (!current) throw new InvalidInputError(`no connector ${id}`);
    const n = { ...current, ...input };
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE connectors SET host = ?, port = ?, system_id = ?, password = ?, system_type = ?, bind = ?, tps = ?, window = ?, tls = ?, dlr_id = ?,
           enabled = ?, updated_at = ? WHERE id = ?`,
        )
        .run(n.host, n.port, n.systemId, n.password, n.systemType, n.bind, n.tps, n.window, n.tls ? 1 : 0, n.dlrId, n.enabled ? 1 : 0, this.now(), id);
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

  get(id: string): Connector | undefined {
    const row = this.db.prepare('SELECT * FROM connectors WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  list(): Connector[] {
    return (this.db.prepare('SELECT * FROM connectors ORDER BY id').all() as Row[]).map(fromRow);
  }
}

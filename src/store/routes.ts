// MT and MO routing tables. A table that could not route is refused here, before it is saved: a
// route naming a missing connector, a bad filter, or (when required) no catch-all MT route.
import { InvalidInputError } from '../errors.js';
import { bumpConfigVersion, type Db } from './db.js';

export type RouteKind = 'static' | 'roundrobin' | 'weighted' | 'failover';
export const ROUTE_KINDS: readonly RouteKind[] = ['static', 'roundrobin', 'weighted', 'failover'];

export interface MtRoute {
  id: number;
  order: number;
  kind: RouteKind;
  /** Connector ids in order, with weights (1 unless given) for `weighted`. */
  connectors: Array<{ id: string; weight: number }>;
  account: string | null;
  /** Destination prefix. */
  prefix: string | null;
  /** Source address prefix, or /regex/. */
  source: string | null;
  /** UTC HH:MM window; from > to spans midnight. */
  timeFrom: string | null;
  timeTo: string | null;
}

export interface MoRoute {
  id: number;
  order: number;
  account: string;
  shortCode: string | null;
  keyword: string | null;
  sourcePrefix: string | null;
  connector: string | null;
}

export type MtRouteInput = Omit<MtRoute, 'id' | 'order' | 'kind' | 'account' | 'prefix' | 'source' | 'timeFrom' | 'timeTo'> & Partial<MtRoute>;
export type MoRouteInput = Pick<MoRoute, 'account'> & Partial<Omit<MoRoute, 'id' | 'account'>>;

/** "a,b:3" → [{a,1},{b,3}] */
export function parseConnectorList(text: string): Array<{ id: string; weight: number }> {
  return text.split(',').map((part) => {
    const [id = '', w] = part.trim().split(':');
    const weight = w === undefined ? 1 : Number(w);
    if (!id) throw new InvalidInputError(`empty connector id in "${text}"`);
    if (!Number.isInteger(weight) || weight < 1) throw new InvalidInputError(`weight of ${id} must be a whole number ≥ 1`);
    return { id, weight };
  });
}

function formatConnectorList(list: MtRoute['connectors']): string {
  return list.map((c) => (c.weight === 1 ? c.id : `${c.id}:${c.weight}`)).join(',');
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export function isCatchAll(r: Pick<MtRoute, 'account' | 'prefix' | 'source' | 'timeFrom'>): boolean {
  return r.account === null && r.prefix === null && r.source === null && r.timeFrom === null;
}

export class RouteStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
    private readonly requireDefault = false,
  ) {}

  addMt(input: MtRouteInput): MtRoute {
    const r: Omit<MtRoute, 'id'> = {
      order: input.order ?? 100,
      kind: input.kind ?? 'static',
      connectors: input.connectors,
      account: input.account ?? null,
      prefix: input.prefix ?? null,
      source: input.source ?? null,
      timeFrom: input.timeFrom ?? null,
      timeTo: input.timeTo ?? null,
    };
    this.checkMt(r);
    return this.db.transaction(() => {
      const { lastInsertRowid } = this.db
        .prepare('INSERT INTO mt_routes (ord, kind, connectors, account, prefix, source, time_from, time_to, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(r.order, r.kind, formatConnectorList(r.connectors), r.account, r.prefix, r.source, r.timeFrom, r.timeTo, this.now());
      this.checkDefault();
      bumpConfigVersion(this.db);
      return { id: Number(lastInsertRowid), ...r };
    })();
  }

  addMo(input: MoRouteInput): MoRoute {
    const r: Omit<MoRoute, 'id'> = {
      order: input.order ?? 100,
      account: input.account,
      shortCode: input.shortCode ?? null,
      keyword: input.keyword ? input.keyword.toUpperCase() : null,
      sourcePrefix: input.sourcePrefix ?? null,
      connector: input.connector ?? null,
    };
    if (!this.db.prepare('SELECT 1 FROM accounts WHERE system_id = ?').get(r.account)) throw new InvalidInputError(`no account ${r.account}`);
    if (r.connector !== null && !this.db.prepare('SELECT 1 FROM connectors WHERE id = ?').get(r.connector))
      throw new InvalidInputError(`no connector ${r.connector}`);
    if (r.keyword !== null && !/^\S+$/.test(r.keyword)) throw new InvalidInputError('keyword must be one word');
    if (!Number.isInteger(r.order)) throw new InvalidInputError('order must be a whole number');
    return this.db.transaction(() => {
      const { lastInsertRowid } = this.db
        .prepare('INSERT INTO mo_routes (ord, account, short_code, keyword, source_prefix, connector, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(r.order, r.account, r.shortCode, r.keyword, r.sourcePrefix, r.connector, this.now());
      bumpConfigVersion(this.db);
      return { id: Number(lastInsertRowid), ...r };
    })();
  }

  removeMt(id: number): boolean {
    return this.db.transaction(() => {
      const changed = this.db.prepare('DELETE FROM mt_routes WHERE id = ?').run(id).changes > 0;
      if (changed) {
        this.checkDefault();
        bumpConfigVersion(this.db);
      }
      return changed;
    })();
  }

  removeMo(id: number): boolean {
    return this.db.transaction(() => {
      const changed = this.db.prepare('DELETE FROM mo_routes WHERE id = ?').run(id).changes > 0;
      if (changed) bumpConfigVersion(this.db);
      return changed;
    })();
  }

  listMt(): MtRoute[] {
    const rows = this.db.prepare('SELECT * FROM mt_routes ORDER BY ord, id').all() as Array<Record<string, unknown>>;
    return rows.map((row) => ({
      id: row.id as number,
      order: row.ord as number,
      kind: row.kind as RouteKind,
      connectors: parseConnectorList(row.connectors as string),
      account: row.account as string | null,
      prefix: row.prefix as string | null,
      source: row.source as string | null,
      timeFrom: row.time_from as string | null,
      timeTo: row.time_to as string | null,
    }));
  }

  listMo(): MoRoute[] {
    const rows = this.db.prepare('SELECT * FROM mo_routes ORDER BY ord, id').all() as Array<Record<string, unknown>>;
    return rows.map((row) => ({
      id: row.id as number,
      order: row.ord as number,
      account: row.account as string,
      shortCode: row.short_code as string | null,
      keyword: row.keyword as string | null,
      sourcePrefix: row.source_prefix as string | null,
      connector: row.connector as string | null,
    }));
  }

  private checkMt(r: Omit<MtRoute, 'id'>): void {
    if (!ROUTE_KINDS.includes(r.kind)) throw new InvalidInputError(`kind must be one of ${ROUTE_KINDS.join(', ')}`);
    if (r.connectors.length === 0) throw new InvalidInputError('a route needs at least one connector');
    if (r.kind === 'static' && r.connectors.length > 1)
      throw new InvalidInputError('a static route has exactly one connector; use failover, roundrobin or weighted for more');
    for (const c of r.connectors) if (!Number.isInteger(c.weight) || c.weight < 1) throw new InvalidInputError(`weight of ${c.id} must be a whole number ≥ 1`);
    if (r.kind !== 'weighted' && r.connectors.some((c) => c.weight !== 1)) throw new InvalidInputError('weights only apply to weighted routes');
    const ids = new Set<string>();
    for (const c of r.connectors) {
      if (ids.has(c.id)) throw new InvalidInputError(`connector ${c.id} is listed twice`);
      ids.add(c.id);
      if (!this.db.prepare('SELECT 1 FROM connectors WHERE id = ?').get(c.id)) throw new InvalidInputError(`no connector ${c.id}: add it first`);
    }
    if (r.account !== null && !this.db.prepare('SELECT 1 FROM accounts WHERE system_id = ?').get(r.account))
      throw new InvalidInputError(`no account ${r.account}`);
    if (r.prefix !== null && !/^\+?[0-9A-Za-z]*$/.test(r.prefix))
      throw new InvalidInputError(`prefix ${r.prefix} must be digits (or letters for alphanumeric addresses)`);
    if (r.source !== null && r.source.length > 1 && r.source.startsWith('/') && r.source.endsWith('/')) {
      try {
        new RegExp(r.source.slice(1, -1));
      } catch (err) {
        throw new InvalidInputError(`source regex ${r.source}: ${(err as Error).message}`);
      }
    }
    if ((r.timeFrom === null) !== (r.timeTo === null)) throw new InvalidInputError('give both --time-from and --time-to, or neither');
    for (const t of [r.timeFrom, r.timeTo]) if (t !== null && !HHMM.test(t)) throw new InvalidInputError(`time ${t} must be HH:MM (UTC)`);
    if (r.timeFrom !== null && r.timeFrom === r.timeTo) throw new InvalidInputError('the time window is empty (from = to); leave both out for all day');
    if (!Number.isInteger(r.order)) throw new InvalidInputError('order must be a whole number');
  }

  private checkDefault(): void {
    if (!this.requireDefault) return;
    const routes = this.listMt();
    if (routes.length > 0 && !routes.some(isCatchAll)) {
      throw new InvalidInputError('the MT table needs a catch-all route (no account, prefix, source or time filter): routing.mtDefaultRequired is on');
    }
  }
}

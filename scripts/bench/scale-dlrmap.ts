// Scale check `dlrmap`: what a large receipt map costs. The map is the ledger (`messages` in
// src/store/schema.ts): a carrier's receipt is matched by Ledger.awaitingReceipt(connector, smsc_id)
// through the partial index of messages still waiting for one (state 1), and every MT adds a row
// (Ledger.insert, then Ledger.markSent with the carrier's id).
//
// Maps, each its own SQLite file made with the gateway's schema (openDb runs the migrations):
//   empty    no rows;
//   small    `smallRows` rows (default 10,000);
//   history  `rows` rows (default 10,000,000), the newest 1% (at least 20,000) awaiting a receipt and
//            the rest final: a week of retained traffic whose receipts came back;
//   pending  `rows` rows, every one awaiting a receipt: the partial index itself holds `rows` entries
//            (the worst case: a map of that many receipts outstanding).
// Rows are made with one INSERT … SELECT over a recursive counter per batch of 500,000 (journal off
// while filling, then WAL as the gateway runs it). They look like the gateway's own: 50 accounts, 4
// connectors, a real encoded submit_sm as the stored PDU, submit times spread over 7 days, carrier
// ids unique per connector in four styles (hex counter, decimal counter, hex counter given in upper
// case, random 128-bit hex), states: see above; among final rows 90% DELIVRD, 6% UNDELIV, 2% EXPIRED,
// 2% REJECTD (those without a carrier id).
//
// Measured per map, through the Ledger API on a connection opened as the gateway opens it (WAL,
// synchronous NORMAL, SQLite's default page cache; the OS page cache is warm: the file was just
// written and the machine has the memory), in `rounds` rounds that visit the maps in alternating
// order, `ops` operations per operation kind and round, each timed on its own (hrtime):
//   lookup hit, any    awaitingReceipt() for ids of random rows awaiting a receipt;
//   lookup hit, newest … among the newest 1% of the rows (receipts come back soon after the submit);
//   lookup miss        awaitingReceipt() for an id that is not there (a receipt parked or unknown);
//   insert             insert() + markSent(), in one transaction per round, rolled back after it;
//   receipt            awaitingReceipt() + applyReceipt(), rolled back likewise;
//   commit path        insert() + markSent() through GroupCommit (50 messages per commit, the WAL
//                      flushed off the event loop as the gateway does), per message; deleted after;
//   prune chunk        Ledger.prune(now, 5,000) as the gateway's retention runs it (history only;
//                      rolled back): how long one chunk holds the event loop.
import { existsSync, mkdtempSync, rmSync, statSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encode } from '../../src/smpp/codec.js';
import { openDb, type Db } from '../../src/store/db.js';
import { GroupCommit } from '../../src/store/group-commit.js';
import { Ledger } from '../../src/store/ledger.js';
import { MT, SHORT_MESSAGE, fmtInt, median, round2, table } from './common.js';

export type MapName = 'empty' | 'small' | 'history' | 'pending';
export type OpName = 'hitAny' | 'hitNewest' | 'miss' | 'insert' | 'receipt' | 'commitPath' | 'pruneChunk';

export interface DlrMapOptions {
  rows: number;
  smallRows: number;
  /** Which big maps to build (history, pending). */
  big: Array<'history' | 'pending'>;
  ops: number;
  rounds: number;
  /** Directory for the files (default: a new temp dir, removed at the end). */
  dir?: string;
  /** Keep the files (and reuse them when they are already there with the right number of rows). */
  keep: boolean;
  /**
   * Not what the gateway does (A/B for a proposal): PRAGMA cache_size (MiB) and mmap_size (MiB) on
   * the measuring connections. Unset: SQLite's defaults, as the gateway runs.
   */
  cacheMiB?: number;
  mmapMiB?: number;
  log: (line: string) => void;
}

export interface MapInfo {
  name: MapName;
  rows: number;
  awaiting: number;
  fillSec: number;
  reused: boolean;
  fileMiB: number;
  walMiB: number;
  /** Bytes per table and index (SQLite's dbstat), MiB. */
  objectsMiB?: Record<string, number>;
}

export interface OpStats {
  /** Median over rounds of the round's mean, µs per op. */
  meanUs: number;
  p50Us: number;
  p99Us: number;
  roundMeansUs: number[];
  n: number;
}

export interface DlrMapResult {
  config: Omit<DlrMapOptions, 'log'>;
  maps: MapInfo[];
  ops: Partial<Record<OpName, Partial<Record<MapName, OpStats>>>>;
  /** big map ÷ baseline map, per op (baseline: small for hits and receipts, empty otherwise). */
  ratios: Array<{ op: OpName; big: MapName; base: MapName; ratio: number }>;
  target: { limit: number; worstLookupRatio: number; met: boolean };
}

const DAY = 86_400_000;
const SPAN = 7 * DAY;
const FILL_BATCH = 500_000;
const CONNECTORS = ['c0', 'c1', 'c2', 'c3'];

/** The newest rows awaiting a receipt in the history and small maps. */
function awaitingFrom(rows: number, kind: MapName): number {
  if (kind === 'pending') return 1;
  return Math.max(1, rows - Math.max(Math.ceil(rows / 100), 20_000) + 1);
}

const PDU = encode({
  command: 'submit_sm',
  sequence_number: 1,
  source_addr: MT.source_addr,
  destination_addr: MT.destination_addr,
  registered_delivery: MT.registered_delivery,
  data_coding: MT.data_coding,
  short_message: SHORT_MESSAGE,
});

/**
 * Rows from..to (the counter n) in one statement. Carrier ids by connector n % 4: c0 hex counter,
 * c1 decimal counter, c2 hex counter (given in upper case), c3 random 128-bit hex (leading zeros
 * folded away as foldId does).
 */
const FILL_SQL = `
WITH RECURSIVE seq(n) AS (SELECT $from UNION ALL SELECT n + 1 FROM seq WHERE n < $to),
rows AS (
  SELECT n, n % 4 AS c, $t0 + n * $step AS ts,
         CASE WHEN n >= $awaitFrom THEN 1 WHEN n % 100 < 90 THEN 2 WHEN n % 100 < 96 THEN 5 WHEN n % 100 < 98 THEN 3 ELSE 8 END AS st
  FROM seq
),
ids AS (
  SELECT *, CASE WHEN st = 8 THEN NULL
                 WHEN c = 0 THEN printf('%x', 104000000000000 + n)
                 WHEN c = 1 THEN printf('%d', 7000000000000000 + n)
                 WHEN c = 2 THEN printf('%x', 200000000000000 + n)
                 ELSE ltrim(lower(hex(randomblob(16))), '0') END AS sid
  FROM rows
)
INSERT INTO messages (account_id, source_addr, dest_addr, registered_delivery, pdu, route_id, connectors, connector, state, attempts,
                      next_at, expires_at, smsc_id, smsc_id_raw, error, submitted_at, sent_at, done_at)
SELECT 1 + (n % 50), 'BRAND', '4915' || printf('%09d', (n * 7919) % 1000000000), 1, $pdu, 1, 'c' || c, 'c' || c, st, 1,
       ts, ts + 2 * ${DAY}, sid, CASE WHEN c >= 2 THEN upper(sid) ELSE sid END,
       CASE st WHEN 5 THEN 1 WHEN 8 THEN 11 ELSE NULL END, ts, ts + 40, CASE WHEN st = 1 THEN NULL ELSE ts + 2000 END
FROM ids`;

/** The schema as SQL text (tables and indexes), to tell whether a kept file is the current one. */
function schemaOf(db: Db): string {
  return (db.prepare('SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name').pluck().all() as string[]).join(';\n');
}

const currentSchema = (() => {
  let text: string | undefined;
  return () => {
    if (text === undefined) {
      const db = openDb(':memory:');
      text = schemaOf(db);
      db.close();
    }
    return text;
  };
})();

/** Rows of a kept file, if it exists and has the schema the current build makes. */
function countRows(file: string): { rows: number; awaiting: number } | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const db = openDb(file, { readonly: true });
    try {
      if (schemaOf(db) !== currentSchema()) return undefined;
      const rows = db.prepare('SELECT COUNT(*) FROM messages').pluck().get() as number;
      const awaiting = db.prepare('SELECT COUNT(*) FROM messages WHERE state = 1').pluck().get() as number;
      return { rows, awaiting };
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

function fileMiB(file: string): number {
  try {
    return statSync(file).size / 2 ** 20;
  } catch {
    return 0;
  }
}

function fill(file: string, kind: MapName, rows: number, now: number, log: (l: string) => void): number {
  rmSync(file, { force: true });
  rmSync(`${file}-wal`, { force: true });
  rmSync(`${file}-shm`, { force: true });
  openDb(file, { create: true }).close(); // the gateway's schema, every migration
  if (rows === 0) return 0;
  const db = openDb(file);
  const t0 = performance.now();
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -524288'); // 512 MiB while filling
    const stmt = db.prepare(FILL_SQL);
    const step = Math.max(1, Math.floor(SPAN / rows));
    const start = now - SPAN;
    const awaitFrom = awaitingFrom(rows, kind);
    for (let from = 1; from <= rows; from += FILL_BATCH) {
      const to = Math.min(rows, from + FILL_BATCH - 1);
      db.transaction(() => stmt.run({ from, to, t0: start, step, awaitFrom, pdu: PDU }))();
      if (rows > FILL_BATCH) {
        const s = (performance.now() - t0) / 1000;
        log(`bench-scale dlrmap: ${kind}: ${fmtInt(to)} / ${fmtInt(rows)} rows, ${s.toFixed(0)} s (${fmtInt(to / s)} rows/s)`);
      }
    }
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
  return (performance.now() - t0) / 1000;
}

function objectSizes(db: Db): Record<string, number> | undefined {
  try {
    const rows = db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all() as Array<{ name: string; bytes: number }>;
    return Object.fromEntries(rows.filter((r) => r.bytes > 64 * 1024).map((r) => [r.name, round2(r.bytes / 2 ** 20)]));
  } catch {
    return undefined;
  }
}

interface Keys {
  /** [connector, smsc_id] of rows awaiting a receipt: any, and among the newest 1%. */
  any: Array<[string, string]>;
  newest: Array<[string, string]>;
}

/** Random keys of rows awaiting a receipt (read before timing, on another connection). */
function sampleKeys(file: string, kind: MapName, rows: number, n: number): Keys {
  const empty: Keys = { any: [], newest: [] };
  if (rows === 0) return empty;
  const db = openDb(file, { readonly: true });
  try {
    const byId = db.prepare('SELECT connector, smsc_id FROM messages WHERE id = ? AND state = 1');
    const from = awaitingFrom(rows, kind);
    // Distinct rows (a receipt applied once no longer awaits): all of them in random order when
    // there are no more than n, else n drawn at random.
    const draw = (lo: number, hi: number): Array<[string, string]> => {
      const ids: number[] = [];
      if (hi - lo + 1 <= n) {
        for (let id = lo; id <= hi; id++) ids.push(id);
        for (let i = ids.length - 1; i > 0; i--) {
          const j = Math.floor(Math.random() * (i + 1));
          [ids[i], ids[j]] = [ids[j]!, ids[i]!];
        }
      } else {
        const seen = new Set<number>();
        while (seen.size < n) seen.add(lo + Math.floor(Math.random() * (hi - lo + 1)));
        ids.push(...seen);
      }
      const out: Array<[string, string]> = [];
      for (const id of ids) {
        const r = byId.get(id) as { connector: string; smsc_id: string } | undefined;
        if (r) out.push([r.connector, r.smsc_id]);
      }
      return out;
    };
    const newestFrom = Math.max(from, rows - Math.ceil(rows / 100) + 1);
    return { any: draw(from, rows), newest: draw(newestFrom, rows) };
  } finally {
    db.close();
  }
}

/** A fresh carrier id of connector `c` that no map holds (different counters from the fill's). */
function freshId(c: number, i: number): string {
  switch (c) {
    case 0:
      return (300_000_000_000_000 + i).toString(16);
    case 1:
      return String(8_000_000_000_000_000 + i);
    case 2:
      return (400_000_000_000_000 + i).toString(16);
    default:
      return (BigInt(0x7f00_0000) * BigInt(2 ** 32) * BigInt(2 ** 32) + BigInt(i) * 0x9e37_79b9_7f4a_7c15n).toString(16);
  }
}

class Timer {
  readonly all: number[] = [];
  roundMeans: number[] = [];

  time<T>(fn: () => T): T {
    const t = process.hrtime.bigint();
    const r = fn();
    this.all.push(Number(process.hrtime.bigint() - t) / 1000);
    return r;
  }

  endRound(from: number): void {
    const xs = this.all.slice(from);
    if (xs.length > 0) this.roundMeans.push(xs.reduce((a, b) => a + b, 0) / xs.length);
  }

  stats(): OpStats {
    const s = [...this.all].sort((a, b) => a - b);
    const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]! : NaN);
    return { meanUs: round2(median(this.roundMeans)), p50Us: round2(q(0.5)), p99Us: round2(q(0.99)), roundMeansUs: this.roundMeans.map(round2), n: s.length };
  }
}

interface OpenMap {
  info: MapInfo;
  file: string;
  db: Db;
  ledger: Ledger;
  commit: GroupCommit;
  keys: Keys;
  timers: Partial<Record<OpName, Timer>>;
}

function timer(m: OpenMap, op: OpName): Timer {
  return (m.timers[op] ??= new Timer());
}

/** One round of every operation kind on one map. `warm`: run, but do not keep the figures. */
async function round(m: OpenMap, o: DlrMapOptions, r: number, now: number, warm: boolean): Promise<void> {
  const { ledger, db } = m;
  const n = o.ops;
  const run = (op: OpName, body: (t: Timer) => void) => {
    const t = warm ? new Timer() : timer(m, op);
    const from = t.all.length;
    body(t);
    if (!warm) t.endRound(from);
  };
  const pick = <T>(xs: T[], i: number) => xs[(i * 7_919 + r * 104_729) % xs.length]!;
  if (m.keys.any.length > 0) {
    run('hitAny', (t) => {
      for (let i = 0; i < n; i++) {
        const [c, id] = pick(m.keys.any, i);
        if (t.time(() => ledger.awaitingReceipt(c, id)) === undefined) throw new Error(`${m.info.name}: key ${c}/${id} not found`);
      }
    });
    run('hitNewest', (t) => {
      for (let i = 0; i < n; i++) {
        const [c, id] = pick(m.keys.newest, i);
        if (t.time(() => ledger.awaitingReceipt(c, id)) === undefined) throw new Error(`${m.info.name}: key ${c}/${id} not found`);
      }
    });
  }
  run('miss', (t) => {
    for (let i = 0; i < n; i++) {
      const c = i % 4;
      if (t.time(() => ledger.awaitingReceipt(CONNECTORS[c]!, freshId(c, 10_000_000 + r * n + i))) !== undefined) throw new Error('a miss was found');
    }
  });
  const base = (r + 1) * 1_000_000 + (warm ? 500_000 : 0);
  run('insert', (t) => {
    db.exec('BEGIN IMMEDIATE');
    try {
      for (let i = 0; i < n; i++) {
        const c = i % 4;
        const smsc = freshId(c, base + i);
        t.time(() => {
          const id = ledger.insert({
            accountId: 1 + (i % 50),
            sourceAddr: 'BRAND',
            destAddr: MT.destination_addr,
            registeredDelivery: 1,
            pdu: PDU,
            routeId: 1,
            connectors: [CONNECTORS[c]!],
            expiresAt: now + 2 * DAY,
            now,
          });
          ledger.markSent(id, CONNECTORS[c]!, smsc, smsc, now);
        });
      }
    } finally {
      db.exec('ROLLBACK');
    }
  });
  if (m.keys.any.length > 0) {
    run('receipt', (t) => {
      db.exec('BEGIN IMMEDIATE');
      try {
        // Distinct keys (sampled so): a message whose receipt was applied no longer awaits one.
        const keys = m.keys.any;
        for (let i = 0; i < Math.min(n, keys.length); i++) {
          const [c, id] = keys[i]!;
          t.time(() => {
            const msg = ledger.awaitingReceipt(c, id);
            if (msg) ledger.applyReceipt(msg.id, 2, null, now);
          });
        }
      } finally {
        db.exec('ROLLBACK');
      }
    });
  }
  // The gateway's own commit path: jobs queued, then one flush; settled after the WAL's fsync.
  {
    const before = db.prepare('SELECT COALESCE(MAX(id), 0) FROM messages').pluck().get() as number;
    const t = warm ? new Timer() : timer(m, 'commitPath');
    const from = t.all.length;
    const perCommit = 50;
    for (let i = 0; i < n; i += perCommit) {
      const t0 = process.hrtime.bigint();
      const jobs: Array<Promise<unknown>> = [];
      for (let k = i; k < Math.min(n, i + perCommit); k++) {
        const c = k % 4;
        const smsc = freshId(c, base + 200_000 + k);
        jobs.push(
          m.commit.run(() => {
            const id = ledger.insert({
              accountId: 1 + (k % 50),
              sourceAddr: 'BRAND',
              destAddr: MT.destination_addr,
              registeredDelivery: 1,
              pdu: PDU,
              routeId: 1,
              connectors: [CONNECTORS[c]!],
              expiresAt: now + 2 * DAY,
              now,
            });
            ledger.markSent(id, CONNECTORS[c]!, smsc, smsc, now);
          }),
        );
      }
      m.commit.flush();
      await Promise.all(jobs);
      const per = Number(process.hrtime.bigint() - t0) / 1000 / jobs.length;
      for (let k = 0; k < jobs.length; k++) t.all.push(per);
    }
    if (!warm) t.endRound(from);
    db.prepare('DELETE FROM messages WHERE id > ?').run(before);
  }
  if (m.info.name === 'history') {
    run('pruneChunk', (t) => {
      for (let i = 0; i < 3; i++) {
        db.exec('BEGIN IMMEDIATE');
        try {
          t.time(() => ledger.prune(now, 5_000, now - 3_600_000));
        } finally {
          db.exec('ROLLBACK');
        }
      }
    });
  }
}

export async function runDlrMapBench(o: DlrMapOptions): Promise<DlrMapResult> {
  const ownDir = o.dir === undefined;
  const dir = o.dir ?? mkdtempSync(path.join(tmpdir(), 'smppgw-bench-dlrmap-'));
  const now = Date.now();
  const plan: Array<{ name: MapName; rows: number }> = [
    { name: 'empty', rows: 0 },
    { name: 'small', rows: o.smallRows },
    ...o.big.map((name) => ({ name, rows: o.rows })),
  ];
  // Disk: ~330 bytes per row with its index entries, twice over for the WAL written when switching.
  const need = plan.reduce((a, p) => a + p.rows, 0) * 400;
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  o.log(`bench-scale dlrmap: files in ${dir}; ~${(need / 2 ** 30).toFixed(1)} GiB needed, ${(free / 2 ** 30).toFixed(1)} GiB free`);
  if (free < need * 1.2)
    throw new Error(
      `not enough disk in ${dir}: ~${(need / 2 ** 30).toFixed(1)} GiB needed, ${(free / 2 ** 30).toFixed(1)} GiB free (use --dir, or fewer --rows)`,
    );
  const maps: OpenMap[] = [];
  try {
    for (const p of plan) {
      const file = path.join(dir, `dlrmap-${p.name}-${p.rows}.db`);
      const have = o.keep ? countRows(file) : undefined;
      const wantAwaiting = p.rows === 0 ? 0 : p.rows - awaitingFrom(p.rows, p.name) + 1;
      let fillSec = 0;
      const reused = have !== undefined && have.rows === p.rows && have.awaiting === wantAwaiting;
      if (!reused) {
        o.log(`bench-scale dlrmap: filling ${p.name} (${fmtInt(p.rows)} rows)`);
        fillSec = fill(file, p.name, p.rows, now, o.log);
      } else {
        o.log(`bench-scale dlrmap: reusing ${file} (${fmtInt(p.rows)} rows)`);
      }
      const keys = sampleKeys(file, p.name, p.rows, Math.min(o.ops, 100_000));
      // Opened as the gateway opens it (src/gateway.ts): WAL, synchronous NORMAL, the WAL flushed by GroupCommit.
      const db = openDb(file, { synchronous: 'normal' });
      if (o.cacheMiB !== undefined) db.pragma(`cache_size = -${o.cacheMiB * 1024}`);
      if (o.mmapMiB !== undefined) db.pragma(`mmap_size = ${o.mmapMiB * 2 ** 20}`);
      const counts = db.prepare('SELECT COUNT(*) AS rows, COALESCE(SUM(state = 1), 0) AS awaiting FROM messages').get() as { rows: number; awaiting: number };
      const objects = p.rows >= 1_000_000 || p.rows === o.smallRows ? objectSizes(db) : undefined;
      const info: MapInfo = {
        name: p.name,
        rows: counts.rows,
        awaiting: counts.awaiting,
        fillSec: round2(fillSec),
        reused,
        fileMiB: round2(fileMiB(file)),
        walMiB: round2(fileMiB(`${file}-wal`)),
        ...(objects ? { objectsMiB: objects } : {}),
      };
      o.log(
        `bench-scale dlrmap: ${p.name}: ${fmtInt(info.rows)} rows (${fmtInt(info.awaiting)} awaiting a receipt), ${info.fileMiB.toFixed(0)} MiB${fillSec ? `, filled in ${fillSec.toFixed(0)} s` : ''}`,
      );
      maps.push({ info, file, db, ledger: new Ledger(db), commit: new GroupCommit(db, { walFile: `${file}-wal` }), keys, timers: {} });
    }
    o.log(`bench-scale dlrmap: warm-up round, then ${o.rounds} rounds × ${fmtInt(o.ops)} ops per kind and map`);
    for (const m of maps) await round(m, o, 0, now, true);
    for (let r = 1; r <= o.rounds; r++) {
      const order = r % 2 === 1 ? maps : [...maps].reverse();
      for (const m of order) await round(m, o, r, now, false);
      o.log(`bench-scale dlrmap: round ${r}/${o.rounds} done`);
    }
    const ops: DlrMapResult['ops'] = {};
    for (const m of maps) {
      for (const [op, t] of Object.entries(m.timers) as Array<[OpName, Timer]>) (ops[op] ??= {})[m.info.name] = t.stats();
    }
    const ratios: DlrMapResult['ratios'] = [];
    for (const op of ['hitAny', 'hitNewest', 'miss', 'insert', 'receipt', 'commitPath'] as OpName[]) {
      const base: MapName = op === 'hitAny' || op === 'hitNewest' || op === 'receipt' ? 'small' : 'empty';
      for (const big of o.big) {
        const b = ops[op]?.[big];
        const s = ops[op]?.[base];
        if (b && s) ratios.push({ op, big, base, ratio: round2(b.meanUs / s.meanUs) });
      }
    }
    const lookups = ratios.filter((x) => x.op === 'hitAny' || x.op === 'hitNewest' || x.op === 'miss');
    const worst = lookups.length ? Math.max(...lookups.map((x) => x.ratio)) : NaN;
    const infos: MapInfo[] = [];
    for (const m of maps.splice(0)) {
      await m.commit.close();
      m.db.close();
      m.info.walMiB = round2(fileMiB(`${m.file}-wal`));
      infos.push(m.info);
    }
    const { log: _log, ...config } = o;
    return { config, maps: infos, ops, ratios, target: { limit: 2, worstLookupRatio: worst, met: worst <= 2 } };
  } finally {
    for (const m of maps) {
      try {
        m.db.close();
      } catch {
        // already closed
      }
    }
    if (ownDir && !o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

const OP_LABEL: Record<OpName, string> = {
  hitAny: 'lookup hit, any row awaiting',
  hitNewest: 'lookup hit, newest 1% of rows',
  miss: 'lookup miss',
  insert: 'insert + markSent (in a transaction)',
  receipt: 'receipt: lookup + applyReceipt',
  commitPath: 'insert + markSent via GroupCommit (50/commit, WAL fsync)',
  pruneChunk: 'prune chunk (5,000 rows, retention)',
};

export function formatDlrMap(r: DlrMapResult): string {
  const out: string[] = [];
  const names = r.maps.map((m) => m.name);
  out.push(
    `dlrmap: the ledger as the receipt map — µs per operation: median over ${r.config.rounds} rounds of each round's mean (p50 / p99 of all ops), ${fmtInt(r.config.ops)} ops per kind, map and round`,
  );
  const tuned = [
    r.config.cacheMiB !== undefined ? `cache_size ${r.config.cacheMiB} MiB` : '',
    r.config.mmapMiB !== undefined ? `mmap_size ${r.config.mmapMiB} MiB` : '',
  ].filter(Boolean);
  out.push(
    tuned.length
      ? `NOT the gateway's settings: ${tuned.join(', ')} on the measuring connections`
      : 'SQLite settings as the gateway opens the file (WAL, synchronous NORMAL, default 2 MiB page cache, no mmap)',
  );
  out.push(
    table([
      ['map', 'rows', 'awaiting receipt', 'file MiB', 'filled in', 'largest objects (MiB)'],
      ...r.maps.map((m) => [
        m.name,
        fmtInt(m.rows),
        fmtInt(m.awaiting),
        m.fileMiB.toFixed(0),
        m.reused ? 'reused' : `${m.fillSec.toFixed(0)} s`,
        m.objectsMiB
          ? Object.entries(m.objectsMiB)
              .slice(0, 4)
              .map(([k, v]) => `${k} ${v.toFixed(0)}`)
              .join(', ')
          : '-',
      ]),
    ]),
  );
  out.push('');
  const us = (s: OpStats | undefined) => (s ? `${s.meanUs.toFixed(s.meanUs >= 100 ? 0 : 1)} (${s.p50Us.toFixed(1)} / ${s.p99Us.toFixed(0)})` : '-');
  const bigs = r.config.big;
  const header = ['operation', ...names, ...bigs.map((b) => `${b} ÷ base`)];
  const rows = [header];
  for (const op of Object.keys(OP_LABEL) as OpName[]) {
    const per = r.ops[op];
    if (!per) continue;
    rows.push([
      OP_LABEL[op],
      ...names.map((n) => us(per[n])),
      ...bigs.map((b) => {
        const x = r.ratios.find((y) => y.op === op && y.big === b);
        return x ? `${x.ratio.toFixed(2)}× (vs ${x.base})` : '-';
      }),
    ]);
  }
  out.push(table(rows));
  out.push('');
  out.push(
    `Target: lookup on the ${fmtInt(r.config.rows)}-row map within ${r.target.limit}× of the empty map's (hits: of the ${fmtInt(r.config.smallRows)}-row map's, an empty map has none): ` +
      `${r.target.met ? 'met' : 'MISSED'} (worst lookup ratio ${Number.isFinite(r.target.worstLookupRatio) ? r.target.worstLookupRatio.toFixed(2) : '-'}×)`,
  );
  return out.join('\n');
}

// Configuration: built-in defaults ← YAML file ← environment (SMPPGW_<PATH> with `__` between
// levels, e.g. SMPPGW_SMPP__PORT=2776) ← command-line flags. Every key has a default here and a
// comment in config/smppgw.yaml; the zod schema (RULES) checks every value. Unknown keys, unknown
// SMPPGW_* variables and wrong values are refused in one line naming the key and where the value
// came from (the file, the variable or the flag).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { envLogLevel, LOG_LEVELS } from './log.js';
import { INTERMEDIATE_CIPHERS } from './smpp/tls-profile.js';

export interface Config {
  smpp: {
    host: string;
    port: number;
    maxConnections: number;
    tls: { enabled: boolean; port: number; cert: string; key: string; ca: string; requestCert: boolean; handshakeTimeoutMs: number; ciphers: string };
    session: {
      window: number;
      inboundWindow: number;
      responseTimeoutMs: number;
      enquireLinkMs: number;
      bindTimeoutMs: number;
      maxPduSize: number;
    };
  };
  http: { host: string; port: number; token: string };
  store: { path: string; synchronous: string; reloadMs: number; retentionHours: number; bodyRetentionHours: number; keyFile: string; previousKeyFiles: string };
  routing: { mtDefaultRequired: boolean; noRouteStatus: number };
  messages: {
    defaultValidityMs: number;
    outboxTtlMs: number;
    sweepMs: number;
    maxInMemory: number;
    outboxPageSize: number;
    joinTimeoutMs: number;
    receiptText: boolean;
  };
  smsc: {
    rulesFile: string;
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
    tlsCa: string;
    tlsCert: string;
    tlsKey: string;
    timeoutsBeforeRebind: number;
    maxResends: number;
  };
  log: { level: string };
  shutdown: { deadlineMs: number };
  security: { maxConnectionsPerIp: number; bindFailures: number; addressBindFailures: number; bindFailureWindowMs: number; lockoutMs: number };
  cluster: { node: number };
}

export const DEFAULTS: Config = {
  smpp: {
    host: '0.0.0.0',
    port: 2775,
    maxConnections: 10_000,
    tls: { enabled: false, port: 3550, cert: '', key: '', ca: '', requestCert: false, handshakeTimeoutMs: 10_000, ciphers: INTERMEDIATE_CIPHERS },
    session: {
      window: 10,
      inboundWindow: 100,
      responseTimeoutMs: 10_000,
      enquireLinkMs: 30_000,
      bindTimeoutMs: 30_000,
      maxPduSize: 65_536,
    },
  },
  http: { host: '0.0.0.0', port: 8080, token: '' },
  store: { path: './data/smppgw.db', synchronous: 'full', reloadMs: 1_000, retentionHours: 168, bodyRetentionHours: 0, keyFile: '', previousKeyFiles: '' },
  routing: { mtDefaultRequired: false, noRouteStatus: 0x0b },
  messages: {
    defaultValidityMs: 48 * 3_600_000,
    outboxTtlMs: 72 * 3_600_000,
    sweepMs: 60_000,
    maxInMemory: 100_000,
    outboxPageSize: 1_000,
    joinTimeoutMs: 30 * 60_000,
    receiptText: true,
  },
  smsc: { rulesFile: '', maxAttempts: 10, retryBaseMs: 1_000, retryMaxMs: 300_000, tlsCa: '', tlsCert: '', tlsKey: '', timeoutsBeforeRebind: 3, maxResends: 2 },
  log: { level: 'info' },
  shutdown: { deadlineMs: 10_000 },
  security: { maxConnectionsPerIp: 100, bindFailures: 5, addressBindFailures: 50, bindFailureWindowMs: 60_000, lockoutMs: 300_000 },
  cluster: { node: 0 },
};

/** Node turns a timer of 2^31 ms or more into 1 ms: every *Ms key that feeds a timer stays below. */
export const MAX_TIMER_MS = 2_147_483_647;
/** Durations that are only added to timestamps (never a timer) may be longer: up to a year. */
const MAX_DURATION_MS = 365 * 86_400_000;

const whole = (min: number, max: number, message = `must be a whole number ${min}..${max}`) =>
  z.number().int({ message }).min(min, { message }).max(max, { message });
const port = whole(0, 65_535, 'is not a port (0..65535; 0 picks a free one)');
const positive = whole(1, Number.MAX_SAFE_INTEGER, 'must be a whole number ≥ 1');
const nonNegative = whole(0, Number.MAX_SAFE_INTEGER, 'must be a whole number ≥ 0');
const timerMs = (min: number) =>
  whole(min, MAX_TIMER_MS, `must be a whole number of ms ${min}..${MAX_TIMER_MS} (about 24.8 days: Node's timers cannot wait longer)`);
const durationMs = whole(1, MAX_DURATION_MS, `must be a whole number of ms 1..${MAX_DURATION_MS} (365 days)`);
const hours = (min: number, note = '') =>
  z
    .number()
    .finite()
    .refine((v) => (min === 0 ? v >= 0 : v > 0) && v <= 24 * 365 * 10, {
      message: `must be a number of hours ${min === 0 ? '≥ 0' : '> 0'} and at most 87600 (10 years)${note}`,
    });
const nonEmpty = z.string().min(1, { message: 'must not be empty' });

/**
 * Rules beyond the type, by dotted key. A key in DEFAULTS without a rule here is checked by the
 * type of its default, and a number whose key ends in `Ms` as a timer (0..MAX_TIMER_MS): a new key
 * needs a line here only when it wants more than that.
 */
const RULES: Record<string, z.ZodTypeAny> = {
  'smpp.host': nonEmpty,
  'smpp.port': port,
  'smpp.tls.port': port,
  'http.host': nonEmpty,
  'http.port': port,
  'smpp.maxConnections': positive,
  'smpp.tls.handshakeTimeoutMs': timerMs(1),
  'smpp.session.window': positive,
  'smpp.session.inboundWindow': positive,
  'smpp.session.responseTimeoutMs': timerMs(1),
  'smpp.session.enquireLinkMs': timerMs(0),
  'smpp.session.bindTimeoutMs': timerMs(0),
  'smpp.session.maxPduSize': whole(1024, 16 * 1024 * 1024, 'must be within 1024..16777216'),
  'shutdown.deadlineMs': timerMs(0),
  'store.path': nonEmpty,
  'store.synchronous': z.enum(['full', 'normal'], { errorMap: () => ({ message: 'must be full or normal' }) }),
  'store.reloadMs': timerMs(1),
  'store.retentionHours': hours(1),
  'store.bodyRetentionHours': hours(0, ' (0: drop a body once its message is final)'),
  'security.maxConnectionsPerIp': positive,
  'security.bindFailures': nonNegative,
  'security.addressBindFailures': nonNegative,
  'security.bindFailureWindowMs': timerMs(1),
  'security.lockoutMs': timerMs(1),
  'routing.noRouteStatus': whole(1, 0xffffffff, 'must be an SMPP error status (e.g. 11 for ESME_RINVDSTADR)'),
  'messages.defaultValidityMs': durationMs,
  'messages.outboxTtlMs': durationMs,
  'messages.sweepMs': timerMs(1),
  'messages.maxInMemory': positive,
  'messages.outboxPageSize': positive,
  'messages.joinTimeoutMs': timerMs(1),
  'cluster.node': whole(0, 1023, 'must be a node number within 0..1023'),
  'smsc.maxAttempts': positive,
  'smsc.retryBaseMs': timerMs(1),
  'smsc.retryMaxMs': timerMs(1),
  'smsc.timeoutsBeforeRebind': positive,
  'smsc.maxResends': nonNegative,
  'log.level': z.enum(LOG_LEVELS, { errorMap: () => ({ message: `is not one of ${LOG_LEVELS.join(', ')}` }) }),
};

/** The schema of a subtree of DEFAULTS: every key required (the defaults fill it), none unknown. */
function schemaOf(defaults: Tree, path = ''): z.ZodTypeAny {
  const shape: Record<string, z.ZodTypeAny> = {};
  for (const [k, d] of Object.entries(defaults)) {
    const key = path ? `${path}.${k}` : k;
    const byType = typeof d === 'number' ? (k.endsWith('Ms') ? timerMs(0) : z.number().finite()) : typeof d === 'string' ? z.string() : z.boolean();
    shape[k] = isTree(d) ? schemaOf(d, key) : (RULES[key] ?? byType);
  }
  return z.object(shape).strict();
}

let schema: z.ZodTypeAny | undefined;

type Tree = { [key: string]: unknown };

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Where each value came from, by dotted key: the file's path, `environment SMPPGW_…` or a flag. */
type Origins = Map<string, string>;

/** Lays `over` onto `base`, refusing keys the defaults do not have; values are checked later (schema). */
function merge(base: Tree, over: unknown, path: string, source: (key: string) => string, origins: Origins): Tree {
  if (over === undefined || over === null) return base;
  if (!isTree(over)) throw new ConfigError(path || '(root)', `${source(path)}: must be a mapping`);
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const key = path ? `${path}.${k}` : k;
    if (!(k in base)) throw new ConfigError(key, `${source(key)}: unknown key`);
    const d = base[k];
    if (isTree(d)) out[k] = merge(d, v, key, source, origins);
    else {
      out[k] = v;
      origins.set(key, source(key));
    }
  }
  return out;
}

/** SMPPGW_* variables that are not config keys but are read where they are needed. */
export const ENV_EXTRAS = ['SMPPGW_LOG_LEVEL', 'SMPPGW_SECRET_KEY', 'SMPPGW_PREVIOUS_SECRET_KEYS'];

/** Every leaf of the defaults by its environment name (SMPPGW_SMPP__SESSION__WINDOW). */
function envNames(tree: Tree, path: string[] = [], out: string[] = []): string[] {
  for (const [k, v] of Object.entries(tree)) {
    if (isTree(v)) envNames(v, [...path, k], out);
    else out.push(`SMPPGW_${[...path, k].map((p) => p.toUpperCase()).join('__')}`);
  }
  return out;
}

/** A config variable spelt otherwise (one `_` for `__`, another case): compared without underscores. */
function didYouMean(name: string, defaults: Tree): string {
  const squash = (n: string) => n.replace(/_/g, '').toLowerCase();
  const match = envNames(defaults).find((n) => squash(n) === squash(name));
  return match ? ` (did you mean ${match}?)` : '';
}

/**
 * SMPPGW_SMPP__SESSION__WINDOW=50 → { smpp: { session: { window: 50 } } }, typed by the defaults.
 * Any other SMPPGW_* variable (a misspelt key) is refused, except ENV_EXTRAS. `origins` learns
 * which variable set which key.
 */
export function envOverrides(env: NodeJS.ProcessEnv, defaults: Tree = DEFAULTS as unknown as Tree, origins: Origins = new Map()): Tree {
  const out: Tree = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('SMPPGW_') || raw === undefined || ENV_EXTRAS.includes(name)) continue;
    const parts = name.slice('SMPPGW_'.length).toLowerCase().split('__');
    // Match each part to a key case-insensitively (keys are camelCase).
    let node: unknown = defaults;
    const keys: string[] = [];
    for (const part of parts) {
      const k = isTree(node) ? Object.keys(node).find((key) => key.toLowerCase() === part) : undefined;
      if (k === undefined) {
        node = undefined;
        break;
      }
      keys.push(k);
      node = (node as Tree)[k];
    }
    if (node === undefined) {
      throw new ConfigError(
        name,
        `not a configuration variable${didYouMean(name, defaults)}: SMPPGW_ + the key path in capitals, __ between levels (SMPPGW_SMPP__PORT), or one of ${ENV_EXTRAS.join(', ')}`,
      );
    }
    const key = keys.join('.');
    const source = `environment ${name}`;
    let value: unknown = raw;
    if (typeof node === 'number') {
      value = Number(raw);
      if (raw.trim() === '' || Number.isNaN(value)) throw new ConfigError(key, `${source}: ${JSON.stringify(raw)} is not a number`);
    } else if (typeof node === 'boolean') {
      if (!['true', 'false', '1', '0'].includes(raw)) throw new ConfigError(key, `${source}: ${JSON.stringify(raw)} is not true/false`);
      value = raw === 'true' || raw === '1';
    } else if (isTree(node)) {
      throw new ConfigError(key, `${source}: names a section, not a key`);
    }
    let target = out;
    for (const k of keys.slice(0, -1)) target = (target[k] ??= {}) as Tree;
    target[keys[keys.length - 1]!] = value;
    origins.set(key, source);
  }
  return out;
}

function valueAt(tree: unknown, path: ReadonlyArray<string | number>): unknown {
  let node = tree;
  for (const p of path) node = isTree(node) ? node[p] : undefined;
  return node;
}

const shown = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'a list' : isTree(v) ? 'a mapping' : String(v));

/** The first problem the schema found, as one line naming the key and where its value came from. */
function schemaError(tree: Tree, error: z.ZodError, origins: Origins): ConfigError {
  const issue = error.issues[0]!;
  const key = issue.path.join('.');
  const origin = origins.get(key) ?? 'default';
  const value = valueAt(tree, issue.path);
  if (issue.code === 'invalid_type') {
    const got = Array.isArray(value) ? 'list' : isTree(value) ? 'mapping' : typeof value;
    return new ConfigError(key, `${origin}: must be a ${issue.expected}, got ${got}`);
  }
  if (issue.code === 'unrecognized_keys') return new ConfigError(key ? `${key}.${issue.keys[0]}` : issue.keys[0]!, `${origin}: unknown key`);
  return new ConfigError(key, `${origin}: ${shown(value)} ${issue.message}`);
}

function freeze<T>(o: T): T {
  if (isTree(o)) for (const v of Object.values(o)) freeze(v);
  return Object.freeze(o);
}

export interface LoadOptions {
  /** A YAML file; missing keys keep their defaults. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Command-line values, already shaped like the config. */
  overrides?: Tree;
  /** The flag each override came from, by dotted key (`smpp.port` → `--port`), for error messages. */
  flags?: Record<string, string>;
}

/** Builds the validated, frozen configuration. Throws ConfigError naming the key at fault. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const origins: Origins = new Map();
  let tree = DEFAULTS as unknown as Tree;
  if (options.file) {
    const file = options.file;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError('(file)', `cannot read ${file}: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = parse(text);
    } catch (err) {
      throw new ConfigError('(file)', `${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    tree = merge(tree, parsed, '', () => file, origins);
  }
  tree = merge(tree, envOverrides(env, DEFAULTS as unknown as Tree, origins), '', (key) => origins.get(key) ?? 'environment', origins);
  tree = merge(tree, options.overrides, '', (key) => options.flags?.[key] ?? 'command line', origins);
  const result = (schema ??= schemaOf(DEFAULTS as unknown as Tree)).safeParse(tree);
  if (!result.success) throw schemaError(tree, result.error, origins);
  envLogLevel(env); // SMPPGW_LOG_LEVEL wins over log.level: refused here, before anything starts
  const config = tree as unknown as Config;
  if (Boolean(config.smsc.tlsCert) !== Boolean(config.smsc.tlsKey)) {
    throw new ConfigError(
      config.smsc.tlsCert ? 'smsc.tlsKey' : 'smsc.tlsCert',
      'a client certificate towards carriers needs both smsc.tlsCert and smsc.tlsKey',
    );
  }
  if (config.smpp.tls.enabled && (!config.smpp.tls.cert || !config.smpp.tls.key)) {
    throw new ConfigError('smpp.tls.cert', 'TLS is enabled but smpp.tls.cert or smpp.tls.key is empty');
  }
  return freeze(structuredClone(config));
}

/** Keys that name a PEM file (TLS) or another file the gateway reads at start. */
const FILE_KEYS: Array<{ key: string; pem: boolean }> = [
  { key: 'smpp.tls.cert', pem: true },
  { key: 'smpp.tls.key', pem: true },
  { key: 'smpp.tls.ca', pem: true },
  { key: 'smsc.tlsCa', pem: true },
  { key: 'smsc.tlsCert', pem: true },
  { key: 'smsc.tlsKey', pem: true },
  { key: 'smsc.rulesFile', pem: false },
];

/**
 * For `start`: every file the configuration names can be read (and a PEM file looks like one), so
 * a missing certificate is one line naming its key, not a stack from deep in the start. TLS files
 * of a listener that is off are not read.
 */
export function checkFiles(config: Config): void {
  for (const { key, pem } of FILE_KEYS) {
    if (key.startsWith('smpp.tls.') && !config.smpp.tls.enabled) continue;
    const file = valueAt(config, key.split('.'));
    if (typeof file !== 'string' || file === '') continue;
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const why =
        ({ ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'a directory, not a file' } as Record<string, string>)[code] ?? (err as Error).message;
      throw new ConfigError(key, `cannot read ${file}: ${why}`);
    }
    if (pem && !text.includes('-----BEGIN ')) throw new ConfigError(key, `${file} is not a PEM file (no -----BEGIN line)`);
  }
}

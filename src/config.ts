// Configuration: built-in defaults ← YAML file ← environment (SMPPGW_<PATH> with `__` between
// levels, e.g. SMPPGW_SMPP__PORT=2776) ← command-line flags. Every key has a default here and a
// comment in config/smppgw.yaml; unknown keys and wrong types are refused with the key named.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError } from './errors.js';
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
  http: { host: string; port: number };
  store: { path: string; synchronous: string; reloadMs: number; retentionHours: number; bodyRetentionHours: number; keyFile: string; previousKeyFiles: string };
  routing: { mtDefaultRequired: boolean; noRouteStatus: number };
  messages: { defaultValidityMs: number; outboxTtlMs: number; sweepMs: number; maxInMemory: number; outboxPageSize: number };
  smsc: { rulesFile: string; maxAttempts: number; retryBaseMs: number; retryMaxMs: number; tlsCa: string; tlsCert: string; tlsKey: string };
  log: { level: string };
  shutdown: { deadlineMs: number };
  security: { maxConnectionsPerIp: number; bindFailures: number; addressBindFailures: number; bindFailureWindowMs: number; lockoutMs: number };
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
  http: { host: '0.0.0.0', port: 8080 },
  store: { path: './data/smppgw.db', synchronous: 'full', reloadMs: 1_000, retentionHours: 168, bodyRetentionHours: 0, keyFile: '', previousKeyFiles: '' },
  routing: { mtDefaultRequired: false, noRouteStatus: 0x0b },
  messages: { defaultValidityMs: 48 * 3_600_000, outboxTtlMs: 72 * 3_600_000, sweepMs: 60_000, maxInMemory: 100_000, outboxPageSize: 1_000 },
  smsc: { rulesFile: '', maxAttempts: 10, retryBaseMs: 1_000, retryMaxMs: 300_000, tlsCa: '', tlsCert: '', tlsKey: '' },
  log: { level: 'info' },
  shutdown: { deadlineMs: 10_000 },
  security: { maxConnectionsPerIp: 100, bindFailures: 5, addressBindFailures: 50, bindFailureWindowMs: 60_000, lockoutMs: 300_000 },
};

type Check = (value: unknown, key: string) => void;

const port: Check = (v, key) => {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 65_535) throw new ConfigError(key, `${String(v)} is not a port (0..65535; 0 picks a free one)`);
};
const positive: Check = (v, key) => {
  if (!Number.isInteger(v) || (v as number) < 1) throw new ConfigError(key, `${String(v)} must be a whole number ≥ 1`);
};
const positiveNumber: Check = (v, key) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(key, `${String(v)} must be a number > 0`);
};
const nonNegative: Check = (v, key) => {
  if (!Number.isInteger(v) || (v as number) < 0) throw new ConfigError(key, `${String(v)} must be a whole number ≥ 0`);
};
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Checks beyond the type, by dotted key. */
const CHECKS: Record<string, Check> = {
  'smpp.port': port,
  'smpp.tls.port': port,
  'http.port': port,
  'smpp.maxConnections': positive,
  'smpp.tls.handshakeTimeoutMs': positive,
  'smpp.session.window': positive,
  'smpp.session.inboundWindow': positive,
  'smpp.session.responseTimeoutMs': positive,
  'smpp.session.enquireLinkMs': nonNegative,
  'smpp.session.bindTimeoutMs': nonNegative,
  'smpp.session.maxPduSize': (v, key) => {
    positive(v, key);
    if ((v as number) < 1024 || (v as number) > 16 * 1024 * 1024) throw new ConfigError(key, `${String(v)} must be within 1024..16777216`);
  },
  'shutdown.deadlineMs': nonNegative,
  'store.synchronous': (v, key) => {
    if (v !== 'full' && v !== 'normal') throw new ConfigError(key, `${String(v)} must be full or normal`);
  },
  'store.reloadMs': positive,
  'security.maxConnectionsPerIp': positive,
  'security.bindFailures': nonNegative,
  'security.addressBindFailures': nonNegative,
  'security.bindFailureWindowMs': positive,
  'security.lockoutMs': positive,
  'store.retentionHours': positiveNumber,
  'store.bodyRetentionHours': (v, key) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(key, `${String(v)} must be a number ≥ 0 (0: drop a body once its message is final)`);
  },
  'routing.noRouteStatus': (v, key) => {
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 0xffffffff) throw new ConfigError(key, `${String(v)} must be an SMPP error status (e.g. 11 for ESME_RINVDSTADR)`);
  },
  'messages.defaultValidityMs': positive,
  'messages.outboxTtlMs': positive,
  'messages.sweepMs': positive,
  'messages.maxInMemory': positive,
  'messages.outboxPageSize': positive,
  'smsc.maxAttempts': positive,
  'smsc.retryBaseMs': positive,
  'smsc.retryMaxMs': positive,
  'log.level': (v, key) => {
    if (!LEVELS.includes(v as string)) throw new ConfigError(key, `${String(v)} is not one of ${LEVELS.join(', ')}`);
  },
};

type Tree = { [key: string]: unknown };

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Lays `over` onto `base`, refusing keys the defaults do not have and values of another type. */
function merge(base: Tree, over: unknown, path: string, source: string): Tree {
  if (over === undefined || over === null) return base;
  if (!isTree(over)) throw new ConfigError(path || '(root)', `${source}: must be a mapping`);
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const key = path ? `${path}.${k}` : k;
    if (!(k in base)) throw new ConfigError(key, `${source}: unknown key`);
    const d = base[k];
    if (isTree(d)) out[k] = merge(d, v, key, source);
    else if (typeof v !== typeof d) throw new ConfigError(key, `${source}: must be a ${typeof d}, got ${Array.isArray(v) ? 'list' : typeof v}`);
    else out[k] = v;
  }
  return out;
}

/** SMPPGW_SMPP__SESSION__WINDOW=50 → { smpp: { session: { window: 50 } } }, typed by the defaults. */
export function envOverrides(env: NodeJS.ProcessEnv, defaults: Tree = DEFAULTS as unknown as Tree): Tree {
  const out: Tree = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('SMPPGW_') || raw === undefined) continue;
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
    if (node === undefined) continue; // not a config variable (e.g. SMPPGW_LOG_LEVEL is read by log.ts)
    const key = keys.join('.');
    let value: unknown = raw;
    if (typeof node === 'number') {
      value = Number(raw);
      if (raw.trim() === '' || Number.isNaN(value)) throw new ConfigError(key, `environment ${name}: ${raw} is not a number`);
    } else if (typeof node === 'boolean') {
      if (!['true', 'false', '1', '0'].includes(raw)) throw new ConfigError(key, `environment ${name}: ${raw} is not true/false`);
      value = raw === 'true' || raw === '1';
    } else if (isTree(node)) {
      throw new ConfigError(key, `environment ${name}: names a section, not a key`);
    }
    let target = out;
    for (const k of keys.slice(0, -1)) target = (target[k] ??= {}) as Tree;
    target[keys[keys.length - 1]!] = value;
  }
  return out;
}

function runChecks(tree: unknown, path = ''): void {
  if (!isTree(tree)) return;
  for (const [k, v] of Object.entries(tree)) {
    const key = path ? `${path}.${k}` : k;
    if (isTree(v)) runChecks(v, key);
    else CHECKS[key]?.(v, key);
  }
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
}

/** Builds the validated, frozen configuration. Throws ConfigError naming the key at fault. */
export function loadConfig(options: LoadOptions = {}): Config {
  let tree = DEFAULTS as unknown as Tree;
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (err) {
      throw new ConfigError('(file)', `cannot read ${options.file}: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = parse(text);
    } catch (err) {
      throw new ConfigError('(file)', `${options.file} is not valid YAML: ${(err as Error).message}`);
    }
    tree = merge(tree, parsed, '', options.file);
  }
  tree = merge(tree, envOverrides(options.env ?? process.env), '', 'environment');
  tree = merge(tree, options.overrides, '', 'command line');
  runChecks(tree);
  const config = tree as unknown as Config;
  if (Boolean(config.smsc.tlsCert) !== Boolean(config.smsc.tlsKey)) {
    throw new ConfigError(config.smsc.tlsCert ? 'smsc.tlsKey' : 'smsc.tlsCert', 'a client certificate towards carriers needs both smsc.tlsCert and smsc.tlsKey');
  }
  if (config.smpp.tls.enabled && (!config.smpp.tls.cert || !config.smpp.tls.key)) {
    throw new ConfigError('smpp.tls.cert', 'TLS is enabled but smpp.tls.cert or smpp.tls.key is empty');
  }
  return freeze(structuredClone(config));
}

// What to do when a carrier answers a submit with an error: retry (temporary) or give up
// (permanent), and after what delay. A rule table the operator edits (config/smsc-errors.yaml,
// named by smsc.rulesFile), as ZoneMTA's bounce rules; SIGHUP rereads it.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError } from '../errors.js';
import { statusName } from '../smpp/defs.js';

export interface RetryPolicy {
  /** Attempts over all connectors before a message is given up as undeliverable. */
  maxAttempts: number;
  /** First retry delay; doubled each attempt, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Sends again after no answer (timeout, lost connection) per message; past it UNDELIVERABLE (default 2). */
  maxResends?: number;
  /** Response timeouts in a row after which a `reconnect` connector binds again (default 3). */
  timeoutsBeforeRebind?: number;
}

export type Verdict = 'temporary' | 'permanent';

export interface Rule {
  status: number;
  verdict: Verdict;
  /** A fixed delay before the retry, instead of the backoff. */
  retryAfterMs?: number;
}

export interface RuleTable {
  rules: Rule[];
  /** Any status no rule names. */
  otherwise: Verdict;
  /** A submit with no answer (response timeout) or on a connection that was lost. */
  noResponse: Verdict;
}

/** The built-in table; config/smsc-errors.yaml ships the same (a test keeps them equal). */
export const DEFAULT_RULES: RuleTable = {
  rules: [
    { status: 0x14, verdict: 'temporary' }, // ESME_RMSGQFUL
    { status: 0x58, verdict: 'temporary' }, // ESME_RTHROTTLED (also slows the connector down)
    { status: 0x08, verdict: 'temporary' }, // ESME_RSYSERR
    { status: 0x64, verdict: 'temporary' }, // ESME_RX_T_APPN
    { status: 0xfe, verdict: 'temporary' }, // ESME_RDELIVERYFAILURE
  ],
  otherwise: 'permanent',
  noResponse: 'temporary',
};

function verdict(v: unknown, key: string, file: string): Verdict {
  if (v !== 'temporary' && v !== 'permanent') throw new ConfigError(key, `${file}: must be temporary or permanent, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads and checks a rule file; errors name the entry at fault. */
export function loadRuleFile(file: string): RuleTable {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError('smsc.rulesFile', `cannot read ${file}: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { rules?: unknown }).rules)) {
    throw new ConfigError('smsc.rulesFile', `${file}: needs a list under "rules"`);
  }
  const d = doc as { rules: unknown[]; otherwise?: unknown; noResponse?: unknown };
  for (const k of Object.keys(d)) if (!['rules', 'otherwise', 'noResponse'].includes(k)) throw new ConfigError(`rules file ${k}`, `${file}: unknown key`);
  const seen = new Set<number>();
  const rules = d.rules.map((r, i): Rule => {
    const key = `rules[${i}]`;
    if (typeof r !== 'object' || r === null) throw new ConfigError(key, `${file}: must be a mapping`);
    const { status, verdict: v, retryAfterMs, ...rest } = r as Record<string, unknown>;
    if (Object.keys(rest).length > 0) throw new ConfigError(`${key}.${Object.keys(rest)[0]}`, `${file}: unknown key`);
    if (!Number.isInteger(status) || (status as number) < 1 || (status as number) > 0xffffffff)
      throw new ConfigError(`${key}.status`, `${file}: must be a command_status such as 0x58`);
    if (seen.has(status as number)) throw new ConfigError(`${key}.status`, `${file}: ${statusName(status as number)} is listed twice`);
    seen.add(status as number);
    if (retryAfterMs !== undefined && !(Number.isInteger(retryAfterMs) && (retryAfterMs as number) >= 0))
      throw new ConfigError(`${key}.retryAfterMs`, `${file}: must be a whole number of ms ≥ 0`);
    return {
      status: status as number,
      verdict: verdict(v, `${key}.verdict`, file),
      ...(retryAfterMs !== undefined ? { retryAfterMs: retryAfterMs as number } : {}),
    };
  });
  return {
    rules,
    otherwise: d.otherwise === undefined ? 'permanent' : verdict(d.otherwise, 'otherwise', file),
    noResponse: d.noResponse === undefined ? 'temporary' : verdict(d.noResponse, 'noResponse', file),
  };
}

export class ErrorRules {
  private readonly byStatus: Map<number, Rule>;

  constructor(
    readonly table: RuleTable = DEFAULT_RULES,
    readonly policy: RetryPolicy = { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 300_000 },
  ) {
    this.byStatus = new Map(table.rules.map((r) => [r.status, r]));
  }

  /** What an error status means; `null` is no answer at all (timeout, lost connection). */
  classify(status: number | null): Verdict {
    if (status === null) return this.table.noResponse;
    return this.byStatus.get(status)?.verdict ?? this.table.otherwise;
  }

  /** Delay before attempt number `attempts + 1` after `status`. */
  delayMs(attempts: number, status: number | null = null): number {
    const fixed = status === null ? undefined : this.byStatus.get(status)?.retryAfterMs;
    if (fixed !== undefined) return fixed;
    return Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  }

  describe(): Array<{ status: string; verdict: Verdict }> {
    return this.table.rules.map((r) => ({ status: statusName(r.status), verdict: r.verdict }));
  }
}

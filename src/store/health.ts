// Store health: what kind of failure a commit met, whether the store can take writes now, and one
// log line per kind of failure per interval (a retrying ESME meets a full disk thousands of times
// a second; each refusal must not cost a log line, let alone a stack).
//
// The kinds, each a bounded metric label:
//   full      SQLITE_FULL: the disk (or the file's size limit) is full
//   busy      SQLITE_BUSY/LOCKED: another process holds the write lock past the retries
//   io        SQLITE_IOERR*: the disk or filesystem failed a read or write
//   readonly  SQLITE_READONLY*: the file or its directory can no longer be written
//   lost      the path no longer names the open file (deleted or replaced: see watch.ts)
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';

export type StoreFailure = 'full' | 'busy' | 'io' | 'readonly' | 'lost';

/** A write the store could not take now; callers answer "cannot store now" (ESME_RMSGQFUL, a temporary error). */
export class StoreUnavailableError extends GatewayError {
  constructor(
    readonly reason: StoreFailure,
    cause?: unknown,
  ) {
    super('STORE_UNAVAILABLE', `cannot store now: ${reason}${cause instanceof Error ? ` (${cause.message})` : ''}`, { cause });
  }
}

/** The kind of store failure `err` is, or undefined for anything else (a bug, a constraint: a real fault). */
export function storeFailure(err: unknown): StoreFailure | undefined {
  if (err instanceof StoreUnavailableError) return err.reason;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'full';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  // SQLITE_IOERR_NOMEM is memory, not the disk; it is still nothing the peer caused.
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return 'io';
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return 'readonly';
  return undefined;
}

/** `err` as a StoreUnavailableError when it is a store failure; otherwise `err` unchanged. */
export function asStoreError(err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  const reason = storeFailure(err);
  return reason === undefined ? err : new StoreUnavailableError(reason, err);
}

/**
 * Logs a write that failed: at error level when it is a real fault, at debug when the store
 * refused it (StoreHealth already logged that, once per interval, not once per write).
 */
export function logWriteError(log: Logger, err: unknown, fields: Record<string, unknown>, msg: string): void {
  if (err instanceof StoreUnavailableError) log.debug({ ...fields, reason: err.reason }, msg);
  else log.error({ ...fields, err: err instanceof Error ? err.message : String(err) }, msg);
}

export interface StoreHealthOptions {
  logger: Logger;
  /** Counts one failed commit (a metric). */
  count?: (reason: StoreFailure) => void;
  /** Counts one commit tried again after SQLITE_BUSY (a metric). */
  countRetry?: () => void;
  /** Called when the store stops taking writes (true) and takes them again (false). */
  onChange?: (failing: boolean) => void;
  /** One log line per kind of failure per this many ms (default 10 s). */
  logEveryMs?: number;
  now?: () => number;
}

interface LogWindow {
  loggedAt: number;
  suppressed: number;
}

export class StoreHealth {
  /** Why the last commit failed; undefined once one succeeds. */
  private failing: StoreFailure | undefined;
  /** The path no longer names the open file: for good (until a restart). */
  private lostHow: string | undefined;
  private readonly logged = new Map<StoreFailure, LogWindow>();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly logEveryMs: number;

  constructor(private readonly o: StoreHealthOptions) {
    this.log = o.logger.child({ part: 'store' });
    this.now = o.now ?? Date.now;
    this.logEveryMs = o.logEveryMs ?? 10_000;
  }

  /** The store takes writes: not lost, and the last commit (if any failed) succeeded since. */
  get ok(): boolean {
    return this.failing === undefined && this.lostHow === undefined;
  }

  get lost(): boolean {
    return this.lostHow !== undefined;
  }

  /** The reason writes are refused now, if they are. */
  get reason(): StoreFailure | undefined {
    return this.lostHow !== undefined ? 'lost' : this.failing;
  }

  /** A commit failed (its writes were refused). Counted always; logged once per kind per interval. */
  failed(reason: StoreFailure, err?: unknown): void {
    this.o.count?.(reason);
    const was = this.ok;
    if (reason !== 'lost') this.failing = reason;
    this.report(reason, err);
    if (was && !this.ok) this.o.onChange?.(true);
  }

  /** A commit met another process's write lock and will be tried again. */
  retried(): void {
    this.o.countRetry?.();
  }

  /** A commit succeeded: writes are taken again (unless the file is lost). */
  committed(): void {
    if (this.failing === undefined) return;
    const reason = this.failing;
    this.failing = undefined;
    const suppressed = this.logged.get(reason)?.suppressed ?? 0;
    this.logged.delete(reason);
    this.log.info({ reason, suppressed }, 'store commits again; ready');
    if (this.ok) this.o.onChange?.(false);
  }

  /** The database path no longer names the open file (`how`: gone or replaced); nothing clears it but a restart. */
  lose(how: string): void {
    if (this.lostHow !== undefined) return;
    const was = this.ok;
    this.lostHow = how;
    this.o.count?.('lost');
    if (was) this.o.onChange?.(true);
  }

  private report(reason: StoreFailure, err: unknown): void {
    const now = this.now();
    const w = this.logged.get(reason);
    if (w !== undefined && now - w.loggedAt < this.logEveryMs) {
      w.suppressed++;
      return;
    }
    const cause = err instanceof StoreUnavailableError ? err.cause : err;
    this.log.error(
      {
        reason,
        err: cause instanceof Error ? cause.message : cause === undefined ? undefined : String(cause),
        code: (cause as { code?: string } | undefined)?.code,
        suppressed: w?.suppressed ?? 0,
      },
      reason === 'lost'
        ? 'store lost: writes refused'
        : 'store cannot commit: writes refused (ESME_RMSGQFUL to accounts, a temporary error to carriers) and not ready until a commit succeeds',
    );
    this.logged.set(reason, { loggedAt: now, suppressed: 0 });
  }
}

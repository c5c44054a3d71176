// Error classes with a stable `code` that callers switch on (never on message text). The SMPP ones
// (a status to answer with, a timeout, a closed session) are in smpp/errors.ts.
export class GatewayError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration value is missing or invalid; `key` names it. */
export class ConfigError extends GatewayError {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super('CONFIG_INVALID', `config ${key}: ${message}`);
  }
}

/** An operator's input (CLI, config table) that cannot be accepted; the message says why. */
export class InvalidInputError extends GatewayError {
  constructor(message: string) {
    super('INVALID_INPUT', message);
  }
}

/**
 * A stored secret (a connector password) that cannot be sealed or opened: `SECRET_KEY_MISSING`
 * (no key where one was looked for), `SECRET_KEY_INVALID` (a key that is not 32 bytes),
 * `SECRET_UNREADABLE` (a value under a key not found, tampered with, or copied from another row).
 */
export class SecretError extends GatewayError {
  constructor(code: 'SECRET_KEY_MISSING' | 'SECRET_KEY_INVALID' | 'SECRET_UNREADABLE', message: string) {
    super(code, message);
  }
}

/**
 * The store cannot be used as asked: missing, not a database, damaged, held by another daemon, or
 * not creatable. `code` says which (see EXIT_CODES); `path` is the absolute path at fault.
 */
export class StoreError extends GatewayError {
  constructor(
    code: StoreErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

export type StoreErrorCode =
  | 'STORE_MISSING' // no database at the path (admin commands, backup/restore inputs)
  | 'STORE_GONE' // no database, but traces show one lived there
  | 'STORE_NOT_FILE' // a directory or another non-file
  | 'STORE_FOREIGN' // a file that is not an smppgw database
  | 'STORE_TOO_NEW' // a schema version this build does not know
  | 'STORE_EXISTS' // would overwrite a database or a file
  | 'STORE_CANNOT_CREATE' // the database, its directory or a backup cannot be written
  | 'STORE_DAMAGED' // quick_check / integrity_check failed, or SQLite reported corruption
  | 'STORE_LOCKED'; // another daemon (or a restore) holds the database

/** A command-line usage error (bad flag or argument). */
export class UsageError extends GatewayError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Something the command needs is not there right now (the gateway's HTTP endpoint). */
export class UnavailableError extends GatewayError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/**
 * Exit codes, by the sysexits(3) classes, so a service manager can tell "retry later" (75) from
 * "fix the config or the data first" (64, 65, 66, 73, 74, 78).
 */
export const EXIT = {
  OK: 0,
  FAILURE: 1, // unexpected runtime failure
  USAGE: 64, // bad flag or argument
  DATAERR: 65, // refused input: no such account, invalid value, not an smppgw database
  NOINPUT: 66, // a database or backup file that is not there
  UNAVAILABLE: 69, // the gateway cannot be reached (status)
  SOFTWARE: 70, // internal: the WAL could not be flushed
  CANTCREAT: 73, // the database, its directory or an output file cannot be created
  IOERR: 74, // I/O error or a damaged database
  TEMPFAIL: 75, // the database is held by another daemon, or a port is in use: try again later
  CONFIG: 78, // configuration invalid
} as const;

const EXIT_BY_CODE: Record<string, number> = {
  USAGE: EXIT.USAGE,
  INVALID_INPUT: EXIT.DATAERR,
  STORE_FOREIGN: EXIT.DATAERR,
  STORE_TOO_NEW: EXIT.DATAERR,
  STORE_MISSING: EXIT.NOINPUT,
  STORE_GONE: EXIT.NOINPUT,
  STORE_NOT_FILE: EXIT.NOINPUT,
  STATUS_UNREACHABLE: EXIT.UNAVAILABLE,
  STORE_EXISTS: EXIT.CANTCREAT,
  STORE_CANNOT_CREATE: EXIT.CANTCREAT,
  STORE_DAMAGED: EXIT.IOERR,
  STORE_LOCKED: EXIT.TEMPFAIL,
  CONFIG_INVALID: EXIT.CONFIG,
  SECRET_KEY_MISSING: EXIT.NOINPUT,
  SECRET_KEY_INVALID: EXIT.CONFIG,
  SECRET_UNREADABLE: EXIT.DATAERR,
  STORE_UNAVAILABLE: EXIT.TEMPFAIL,
  // A port to listen on is taken: most often the previous gateway still closing, so "retry later".
  PORT_IN_USE: EXIT.TEMPFAIL,
};

/** The process exit code for an error that ends a command: by its stable `code`, 1 when unknown. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof GatewayError) return EXIT_BY_CODE[err.code] ?? EXIT.FAILURE;
  return EXIT.FAILURE;
}

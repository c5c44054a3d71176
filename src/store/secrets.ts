// Secrets at rest (the gateway's passwords at carriers' SMSCs, needed in clear to bind): sealed with
// AES-256-GCM under a key kept outside the database, so a copy of the file alone does not yield them.
//
// A sealed value reads `enc:v1:<key id>:<base64 of iv | tag | ciphertext>`: the key id (a short hash
// of the key) finds the right key among the current and previous ones, and names the missing one in
// an error. The row it belongs to is bound as associated data: a value copied to another row does not
// open. The plaintext is padded to 16 bytes so an SMPP password's length (≤ 8) does not show.
//
// The key, first found wins: SMPPGW_SECRET_KEY (32 bytes as 64 hex digits or base64), the file named
// by store.keyFile, or `smppgw.key` beside the database, created 0600 with a random key the first
// time something is sealed. Older keys (SMPPGW_PREVIOUS_SECRET_KEYS, store.previousKeyFiles, both
// comma separated) still open what they sealed until `smppgw connector rekey` moves it to the current key.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config.js';
import { SecretError } from '../errors.js';
import { fsyncPath } from './files.js';

export const KEY_ENV = 'SMPPGW_SECRET_KEY';
export const PREVIOUS_KEYS_ENV = 'SMPPGW_PREVIOUS_SECRET_KEYS';
export const DEFAULT_KEY_FILE = 'smppgw.key';

const SEALED = /^enc:v1:([0-9a-f]{8}):([A-Za-z0-9+/]+={0,2})$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BLOCK = 16;

export interface KeySources {
  /** The database file: the default key file lives beside it. */
  dbPath: string;
  /** store.keyFile; '' for none. */
  keyFile: string;
  /** store.previousKeyFiles: comma-separated paths; '' for none. */
  previousKeyFiles: string;
  env?: NodeJS.ProcessEnv;
  /** Told once when the default key file is created (the daemon logs it, the CLI prints it). */
  onCreate?: (path: string) => void;
}

/** The one way the daemon and the CLI find the keys: from the config's store section and the environment. */
export function keyRingFor(config: Pick<Config, 'store'>, options: Pick<KeySources, 'env' | 'onCreate'> = {}): KeyRing {
  const { path, keyFile, previousKeyFiles } = config.store;
  return new KeyRing({ dbPath: path, keyFile, previousKeyFiles, ...options });
}

/** True for a value in the sealed format (anything else in the column is a password from before sealing). */
export function isSealed(stored: string): boolean {
  return SEALED.test(stored);
}

/** The id of the key a sealed value is under, or undefined for a plain value. */
export function sealedKeyId(stored: string): string | undefined {
  return SEALED.exec(stored)?.[1];
}

interface Found {
  source: string;
  /** The key id, or what is wrong with this source. */
  state: string;
}

export class KeyRing {
  /** Key id → AES key, for every key seen so far (a re-read adds, never forgets). */
  private readonly keys = new Map<string, Buffer>();
  private current: { id: string; key: Buffer } | undefined;
  private currentError: SecretError | undefined;
  private found: Found[] = [];
  private loaded = false;

  constructor(private readonly sources: KeySources) {}

  /** The current key's id (creating the default key file if it is missing). */
  currentId(): string {
    return this.currentKey().id;
  }

  /** Seals `plaintext` under the current key, bound to `row` (e.g. `connector:<id>`). */
  seal(plaintext: string, row: string): string {
    const { id, key } = this.currentKey();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad(id, row));
    const body = Buffer.concat([cipher.update(pad(Buffer.from(plaintext, 'utf8'))), cipher.final()]);
    return `enc:v1:${id}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  /**
   * Opens a sealed value of `row`; `what` names it in errors (`connector sim`). A key id not seen
   * yet makes it read the key sources again: the CLI may have rotated the key file meanwhile.
   */
  open(stored: string, row: string, what: string): string {
    const m = SEALED.exec(stored);
    if (!m) throw new SecretError('SECRET_UNREADABLE', `${what}: the stored password is neither sealed (enc:v1:…) nor a plain SMPP password`);
    const id = m[1]!;
    if (!this.loaded || !this.keys.has(id)) this.load(false);
    const key = this.keys.get(id);
    if (!key) {
      const code = this.keys.size === 0 ? 'SECRET_KEY_MISSING' : 'SECRET_UNREADABLE';
      throw new SecretError(code, `${what}: the password is sealed under key ${id}, which is not among the keys found (${this.where()})`);
    }
    const raw = Buffer.from(m[2]!, 'base64');
    const fail = () => new SecretError('SECRET_UNREADABLE', `${what}: the password does not open under key ${id}: altered, or copied from another row`);
    if (raw.length < IV_BYTES + TAG_BYTES + BLOCK || (raw.length - IV_BYTES - TAG_BYTES) % BLOCK !== 0) throw fail();
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(aad(id, row));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const padded = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
      return unpad(padded).toString('utf8');
    } catch {
      throw fail();
    }
  }

  /** Where keys were looked for and what was found there: for errors and `rekey`'s report. */
  where(): string {
    if (!this.loaded) this.load(false);
    const previous = this.found.slice(1);
    return [
      ...this.found.slice(0, 1).map((f) => `${f.source}: ${f.state}`),
      previous.length
        ? `previous: ${previous.map((f) => `${f.source}: ${f.state}`).join(', ')}`
        : `no previous keys (store.previousKeyFiles, ${PREVIOUS_KEYS_ENV})`,
    ].join('; ');
  }

  private currentKey(): { id: string; key: Buffer } {
    if (!this.current) this.load(true);
    if (!this.current) throw this.currentError!;
    return this.current;
  }

  /** Reads every source again; `create`: make the default key file if it is the source and missing. */
  private load(create: boolean): void {
    const { env = process.env, keyFile, previousKeyFiles, dbPath } = this.sources;
    this.loaded = true;
    this.found = [];
    this.current = undefined;
    this.currentError = undefined;
    const take = (source: string, read: () => Buffer | undefined, isCurrent: boolean): void => {
      try {
        const master = read();
        if (!master) return;
        const id = keyId(master);
        this.keys.set(id, aesKey(master));
        this.found.push({ source, state: `key ${id}` });
        if (isCurrent) this.current = { id, key: this.keys.get(id)! };
      } catch (err) {
        const e = err instanceof SecretError ? err : new SecretError('SECRET_KEY_MISSING', `${source}: ${(err as Error).message}`);
        this.found.push({ source, state: e.message.startsWith(`${source}: `) ? e.message.slice(source.length + 2) : e.message });
        if (isCurrent) this.currentError = e;
      }
    };

    const envKey = env[KEY_ENV]?.trim();
    if (envKey) take(KEY_ENV, () => parseKey(envKey, KEY_ENV), true);
    else if (keyFile) take(`store.keyFile ${keyFile}`, () => readKeyFile(keyFile, `store.keyFile ${keyFile}`), true);
    else {
      const path = join(dirname(dbPath), DEFAULT_KEY_FILE);
      const source = `key file ${path}`;
      take(
        source,
        () => {
          const key = readKeyFile(path, source, true) ?? (create ? createKeyFile(path, this.sources.onCreate) : undefined);
          if (!key) throw new SecretError('SECRET_KEY_MISSING', `${source}: no such file (it is created when a password is first stored)`);
          return key;
        },
        true,
      );
    }
    const previousEnv = (env[PREVIOUS_KEYS_ENV] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const [i, value] of previousEnv.entries()) take(`${PREVIOUS_KEYS_ENV}[${i + 1}]`, () => parseKey(value, `${PREVIOUS_KEYS_ENV}[${i + 1}]`), false);
    for (const file of previousKeyFiles
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      take(`store.previousKeyFiles ${file}`, () => readKeyFile(file, `store.previousKeyFiles ${file}`), false);
    }
  }
}

/** 32 bytes written as 64 hex digits or base64 (standard or URL-safe, padded or not). */
export function parseKey(text: string, source: string): Buffer {
  const s = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(s)) {
    const key = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === 32) return key;
  }
  throw new SecretError('SECRET_KEY_INVALID', `${source}: a key must be 32 bytes written as 64 hex digits or as base64 (e.g. openssl rand -hex 32)`);
}

function readKeyFile(path: string, source: string, missingOk = false): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && missingOk) return undefined;
    throw new SecretError(
      'SECRET_KEY_MISSING',
      `${source}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`,
    );
  }
  return parseKey(text, source);
}

/**
 * Writes a new random key to `path`, never over an existing file: written and synced under a
 * temporary name, then linked into place (which fails if another process got there first; its key
 * is then read). Returns the key in the file.
 */
function createKeyFile(path: string, onCreate?: (path: string) => void): Buffer {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${key.toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readKeyFile(path, `key file ${path}`)!;
  } finally {
    unlinkSync(tmp);
  }
  // The key is as precious as the passwords: make its directory entry durable too.
  fsyncPath(dir);
  onCreate?.(path);
  return key;
}

/** A short, public name for a key: 8 hex digits of a hash (it says which key, not what it is). */
function keyId(master: Buffer): string {
  return createHash('sha256').update('smppgw key id\0').update(master).digest('hex').slice(0, 8);
}

/** The AES key is derived, so the key the operator holds serves this one purpose only under this name. */
function aesKey(master: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'smppgw secrets v1 aes-256-gcm', 32));
}

function aad(id: string, row: string): Buffer {
  return Buffer.from(`enc:v1:${id}:${row}`, 'utf8');
}

/** PKCS#7 to a multiple of 16 bytes: every SMPP password (≤ 8 characters) seals to the same length. */
function pad(b: Buffer): Buffer {
  const n = BLOCK - (b.length % BLOCK);
  return Buffer.concat([b, Buffer.alloc(n, n)]);
}

function unpad(b: Buffer): Buffer {
  const n = b[b.length - 1]!;
  if (n < 1 || n > BLOCK || n > b.length) throw new Error('bad padding');
  return b.subarray(0, b.length - n);
}

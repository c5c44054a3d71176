// Operator commands over the SQLite tables: accounts and connectors (routes in routes.ts), and what
// every table command shares (--db/--config, printing). They write the same file the daemon uses;
// the daemon picks the change up within two seconds (config_version poll).
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolve } from 'node:path';
import { loadConfig, type Config } from '../config.js';
import { InvalidInputError } from '../errors.js';
import { AccountStore, BIND_TYPES, type Account, type BindType } from '../store/accounts.js';
import { ConnectorStore, ON_TIMEOUT, type ConnectorInfo, type OnTimeout } from '../store/connectors.js';
import { openDb, type Db } from '../store/db.js';
import { keyRingFor } from '../store/secrets.js';
import { DEFAULT_ALPHABETS, type DefaultAlphabet } from '../text/codings.js';

export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number ${min}..${max}`);
    return n;
  };
}

function numberArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number ≥ 0');
  return n;
}

function listArg(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

export interface DbOptions {
  db?: string;
  config?: string;
  json?: boolean;
}

/** The database a command works on: --db, else store.path of the config; absolute. */
export function storePath(opts: Pick<DbOptions, 'db' | 'config'>): { path: string; config: Config } {
  const config = loadConfig({ ...(opts.config ? { file: opts.config } : {}), ...(opts.db ? { overrides: { store: { path: opts.db } } } : {}) });
  return { path: resolve(config.store.path), config };
}

/** Opens an existing smppgw database only: a mistyped --db creates nothing and says which path. */
export function withDb<T>(opts: DbOptions, fn: (db: Db, requireDefault: boolean) => T): T {
  const { path, config } = storePath(opts);
  const db = openDb(path);
  try {
    return fn(db, config.routing.mtDefaultRequired);
  } finally {
    db.close();
  }
}

/** Prints rows as aligned columns, or as JSON with --json. */
export function printRows(rows: Array<Record<string, unknown>>, json = false): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const keys = Object.keys(rows[0]!);
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') || '-' : String(v));
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => cell(r[k]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(keys)}\n${rows.map((r) => line(keys.map((k) => cell(r[k])))).join('\n')}\n`);
}

/** What `list` and `show` print of an account: never the password hash. */
function publicAccount(a: Account): Record<string, unknown> {
  return {
    system_id: a.systemId,
    id: a.id,
    tps: a.tps,
    window: a.window,
    max_binds: a.maxBinds,
    allow: a.allow,
    bind_types: a.bindTypes,
    id_format: a.idFormat,
    max_priority: a.maxPriority,
    dc0: a.dc0,
    fold: a.fold,
    max_parts: a.maxParts,
    enabled: a.enabled,
  };
}

/** What `list` and `show` print of a connector: never its password (the store does not even open it). */
function publicConnector(c: ConnectorInfo): Record<string, unknown> {
  return {
    id: c.id,
    host: c.host,
    port: c.port,
    system_id: c.systemId,
    bind: c.bind,
    tps: c.tps,
    window: c.window,
    tls: c.tls,
    dlr_id: c.dlrId,
    on_timeout: c.onTimeout,
    forward_priority: c.forwardPriority,
    schedule: c.schedule,
    dc0: c.dc0,
    enabled: c.enabled,
  };
}

export function dbOptions(cmd: Command): Command {
  return cmd
    .option('--db <file>', 'SQLite database (default: store.path of the config)')
    .option('-c, --config <file>', 'YAML config file')
    .option('--json', 'print JSON');
}

/** `(default: …)` in help for `add`, where leaving a flag out means the default; `set` keeps the value. */
function dflt(adding: boolean, value: string | number): string {
  return adding ? ` (default: ${value})` : '';
}

function accountOptions(cmd: Command, adding: boolean): Command {
  return cmd
    .option('--tps <n>', `messages per second over all binds (0: no limit)${dflt(adding, 0)}`, numberArg)
    .option('--window <n>', `open submit_sm per bind${dflt(adding, 10)}`, intArg(1))
    .option('--max-binds <n>', `simultaneous binds${dflt(adding, 4)}`, intArg(1))
    .option('--allow <cidr>', `address allowed to bind (repeat or comma-separate)${dflt(adding, 'any')}`, listArg)
    .addOption(new Option('--bind-types <list>', `allowed bind types, of ${BIND_TYPES.join(',')}${dflt(adding, BIND_TYPES.join(','))}`).argParser(listArg))
    .addOption(new Option('--id-format <f>', `message ids the account sees${dflt(adding, 'hex')}`).choices(['hex', 'dec']))
    .option(
      '--max-priority <n>',
      `highest priority_flag honoured (0-3): above 0, its flagged messages take the carriers' priority lane${dflt(adding, 0)}`,
      intArg(0, 3),
    )
    .addOption(
      new Option('--dc0 <a>', `what data_coding 0 means in this account's messages, MOs and receipts${dflt(adding, 'gsm')}`).choices([...DEFAULT_ALPHABETS]),
    )
    .addOption(
      new Option(
        '--fold <yn>',
        `fold typographic characters (’ “ ” – … no-break space) to GSM when that turns a UCS2 message into GSM${dflt(adding, 'no')}`,
      ).choices(['yes', 'no']),
    )
    .option('--max-parts <n>', `the most parts a message may have; longer ones are refused (ESME_RINVMSGLEN)${dflt(adding, 10)}`, intArg(1, 255))
    .option('--disabled', 'refuse binds (keep the account)');
}

type AccountFlags = DbOptions & {
  password?: string;
  tps?: number;
  window?: number;
  maxBinds?: number;
  allow?: string[];
  bindTypes?: string[];
  idFormat?: 'hex' | 'dec';
  maxPriority?: number;
  dc0?: DefaultAlphabet;
  fold?: 'yes' | 'no';
  maxParts?: number;
  disabled?: boolean;
  enabled?: boolean;
};

function accountInput(o: AccountFlags) {
  return {
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.tps !== undefined ? { tps: o.tps } : {}),
    ...(o.window !== undefined ? { window: o.window } : {}),
    ...(o.maxBinds !== undefined ? { maxBinds: o.maxBinds } : {}),
    ...(o.allow !== undefined ? { allow: o.allow } : {}),
    ...(o.bindTypes !== undefined ? { bindTypes: o.bindTypes as BindType[] } : {}),
    ...(o.idFormat !== undefined ? { idFormat: o.idFormat } : {}),
    ...(o.maxPriority !== undefined ? { maxPriority: o.maxPriority } : {}),
    ...(o.dc0 !== undefined ? { dc0: o.dc0 } : {}),
    ...(o.fold !== undefined ? { fold: o.fold === 'yes' } : {}),
    ...(o.maxParts !== undefined ? { maxParts: o.maxParts } : {}),
    ...(o.disabled ? { enabled: false } : o.enabled ? { enabled: true } : {}),
  };
}

export function accountCommand(): Command {
  const account = new Command('account').description('ESME accounts (SMS software providers that bind to us)');
  accountOptions(
    dbOptions(account.command('add <system_id>').description('add an account').requiredOption('--password <p>', 'bind password (1 to 8 octets: ASCII)')),
    true,
  ).action((systemId: string, o: AccountFlags) =>
    withDb(o, (db) => printRows([publicAccount(new AccountStore(db).add(systemId, { ...accountInput(o), password: o.password! }))], o.json)),
  );
  dbOptions(account.command('list').description('list accounts')).action((o: DbOptions) =>
    withDb(o, (db) => printRows(new AccountStore(db).list().map(publicAccount), o.json)),
  );
  dbOptions(account.command('show <system_id>').description('show one account')).action((systemId: string, o: DbOptions) =>
    withDb(o, (db) => {
      const a = new AccountStore(db).get(systemId);
      if (!a) throw new InvalidInputError(`no account ${systemId}`);
      printRows([publicAccount(a)], o.json);
    }),
  );
  accountOptions(
    dbOptions(
      account
        .command('set <system_id>')
        .description('change an account (what is not given stays)')
        .option('--password <p>', 'new bind password (1 to 8 octets: ASCII)')
        .option('--enabled', 'accept binds again'),
    ),
    false,
  ).action((systemId: string, o: AccountFlags) => withDb(o, (db) => printRows([publicAccount(new AccountStore(db).set(systemId, accountInput(o)))], o.json)));
  dbOptions(
    account
      .command('remove <system_id>')
      .description('remove an account (refused while it has queued messages or receipts/MOs waiting, unless --purge)')
      .option('--purge', 'end its queued messages as DELETED and drop its waiting receipts/MOs'),
  ).action((systemId: string, o: DbOptions & { purge?: boolean }) =>
    withDb(o, (db) => {
      const removed = new AccountStore(db).remove(systemId, { purge: o.purge === true });
      if (!removed) throw new InvalidInputError(`no account ${systemId}`);
      const purged = o.purge ? ` (${removed.deletedMessages} queued message(s) ended DELETED, ${removed.droppedOutbox} receipt(s)/MO(s) dropped)` : '';
      process.stdout.write(`removed account ${systemId}${purged}\n`);
    }),
  );
  return account;
}

type ConnectorFlags = DbOptions & {
  host?: string;
  port?: number;
  systemId?: string;
  password?: string;
  systemType?: string;
  bind?: 'trx' | 'txrx';
  tps?: number;
  window?: number;
  tls?: boolean;
  dlrId?: 'hex' | 'dec' | 'auto';
  onTimeout?: OnTimeout;
  forwardPriority?: 'yes' | 'no';
  schedule?: 'forward' | 'hold';
  dc0?: DefaultAlphabet;
  disabled?: boolean;
  enabled?: boolean;
};

function connectorOptions(cmd: Command, required: boolean): Command {
  const opt = (flags: string, desc: string) => (required ? cmd.requiredOption(flags, desc) : cmd.option(flags, desc));
  opt('--host <h>', 'SMSC host');
  required ? cmd.requiredOption('--port <n>', 'SMSC port', intArg(1, 65_535)) : cmd.option('--port <n>', 'SMSC port', intArg(1, 65_535));
  opt('--system-id <s>', 'our system_id at the SMSC');
  opt('--password <p>', 'our password at the SMSC (at most 8 octets)');
  return cmd
    .option('--system-type <t>', `system_type to bind with${dflt(required, 'empty')}`)
    .addOption(new Option('--bind <b>', `one transceiver, or a transmitter + receiver pair${dflt(required, 'trx')}`).choices(['trx', 'txrx']))
    .option('--tps <n>', `messages per second towards the SMSC (0: no limit)${dflt(required, 0)}`, numberArg)
    .option('--window <n>', `open submit_sm towards the SMSC${dflt(required, 10)}`, intArg(1))
    .option('--tls', 'connect with TLS (certificate verified)')
    .addOption(
      new Option(
        '--dlr-id <f>',
        `ids in receipts: auto = as in submit_sm_resp, hex/dec = in that base when the response used the other${dflt(required, 'auto')}`,
      ).choices(['hex', 'dec', 'auto']),
    )
    .addOption(
      new Option(
        '--on-timeout <m>',
        `a submit_sm without an answer: reconnect = send again, and after smsc.timeoutsBeforeRebind in a row enquire_link and bind again; requeue = send again only; wait = never send again (a late answer is taken)${dflt(required, 'reconnect')}`,
      ).choices([...ON_TIMEOUT]),
    )
    .addOption(
      new Option(
        '--schedule <s>',
        `schedule_delivery_time: forward = sent on to the SMSC; hold = kept here and sent when due (validity counts from then)${dflt(required, 'forward')}`,
      ).choices(['forward', 'hold']),
    )
    .addOption(
      new Option('--forward-priority <yn>', `send priority_flag to the SMSC as the account set it (yes) or as 0 (no)${dflt(required, 'yes')}`).choices([
        'yes',
        'no',
      ]),
    )
    .addOption(
      new Option('--dc0 <a>', `what the carrier means by data_coding 0 (text is transcoded where an account means another)${dflt(required, 'gsm')}`).choices([
        ...DEFAULT_ALPHABETS,
      ]),
    )
    .option('--disabled', 'do not bind');
}

function connectorInput(o: ConnectorFlags) {
  const out: Record<string, unknown> = {};
  for (const k of ['host', 'port', 'systemId', 'password', 'systemType', 'bind', 'tps', 'window', 'tls', 'dlrId', 'onTimeout', 'schedule', 'dc0'] as const)
    if (o[k] !== undefined) out[k] = o[k];
  if (o.forwardPriority !== undefined) out.forwardPriority = o.forwardPriority === 'yes';
  if (o.disabled) out.enabled = false;
  else if (o.enabled) out.enabled = true;
  return out;
}

/** The connector table, its passwords sealed with the key found as the daemon finds it (keyRingFor). */
function connectorStore(o: DbOptions, db: Db): ConnectorStore {
  const config = loadConfig({ ...(o.config ? { file: o.config } : {}), ...(o.db ? { overrides: { store: { path: o.db } } } : {}) });
  return new ConnectorStore(
    db,
    keyRingFor(config, {
      onCreate: (path) => process.stderr.write(`smppgw: created ${path} (0600), the key that seals connector passwords; back it up apart from the database\n`),
    }),
  );
}

export function connectorCommand(): Command {
  const connector = new Command('connector').description('carrier SMSC connectors');
  connectorOptions(dbOptions(connector.command('add <id>').description('add a connector')), true).action((id: string, o: ConnectorFlags) =>
    withDb(o, (db) => printRows([publicConnector(connectorStore(o, db).add(id, connectorInput(o) as Parameters<ConnectorStore['add']>[1]))], o.json)),
  );
  dbOptions(connector.command('list').description('list connectors')).action((o: DbOptions) =>
    withDb(o, (db) => printRows(connectorStore(o, db).list().map(publicConnector), o.json)),
  );
  dbOptions(connector.command('show <id>').description('show one connector')).action((id: string, o: DbOptions) =>
    withDb(o, (db) => {
      const c = connectorStore(o, db).get(id);
      if (!c) throw new InvalidInputError(`no connector ${id}`);
      printRows([publicConnector(c)], o.json);
    }),
  );
  connectorOptions(
    dbOptions(connector.command('set <id>').description('change a connector (what is not given stays)').option('--enabled', 'bind again')),
    false,
  ).action((id: string, o: ConnectorFlags) => withDb(o, (db) => printRows([publicConnector(connectorStore(o, db).set(id, connectorInput(o)))], o.json)));
  dbOptions(connector.command('remove <id>').description('remove a connector no route uses')).action((id: string, o: DbOptions) =>
    withDb(o, (db) => {
      if (!connectorStore(o, db).remove(id)) throw new InvalidInputError(`no connector ${id}`);
      process.stdout.write(`removed connector ${id}\n`);
    }),
  );
  dbOptions(
    connector
      .command('rekey')
      .description('seal every connector password under the current key (after a key rotation); previous keys are then no longer needed'),
  ).action((o: DbOptions) =>
    withDb(o, (db) => {
      const { changed, plain, keyId } = connectorStore(o, db).reseal(true);
      if (o.json) printRows([{ resealed: changed, plain, key_id: keyId }], true);
      else process.stdout.write(`resealed ${changed} connector password(s) under key ${keyId}${plain ? ` (${plain} stored in clear until now)` : ''}\n`);
    }),
  );
  return connector;
}

// Operator commands over the database file itself: `init` (an empty database, before a first
// start), `backup FILE` (safe while the daemon runs) and `restore FILE` (while it does not).
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { StoreError } from '../errors.js';
import { backupDatabase, restoreDatabase } from '../store/backup.js';
import { schemaVersion, statOrNull, storeError } from '../store/db.js';
import { openStore } from '../store/open.js';
import { storePath } from './admin.js';

interface StoreFlags {
  db?: string;
  config?: string;
}

function storeOptions(cmd: Command): Command {
  return cmd.option('--db <file>', 'SQLite database (default: store.path of the config)').option('-c, --config <file>', 'YAML config file');
}

export function initCommand(): Command {
  return storeOptions(new Command('init').description('create an empty database (0600, its directory 0700) without starting the gateway')).action(
    (o: StoreFlags) => {
      const { path } = storePath(o);
      if (statOrNull(path) !== null) refuseExisting(path);
      // `init` is the operator saying "start empty": traces of an earlier database are kept aside.
      const store = openStore(path, { init: true, holder: { role: 'init' } });
      try {
        for (const f of store.setAside) process.stdout.write(`kept aside: ${f}\n`);
        process.stdout.write(`created ${store.path} (schema version ${schemaVersion(store.db, store.path)})\n`);
      } finally {
        store.close();
      }
    },
  );
}

/** `init` over an existing file: an empty one is initialised (by openStore); anything else is refused. */
function refuseExisting(path: string): void {
  if (!statOrNull(path)?.isFile()) throw new StoreError('STORE_NOT_FILE', path, `${path} is not a database file`);
  let conn: Database.Database | undefined;
  let version: number;
  try {
    conn = new Database(path, { fileMustExist: true }); // not readonly: that would leave a -wal and -shm behind
    version = schemaVersion(conn, path);
  } catch (err) {
    throw storeError(path, err);
  } finally {
    conn?.close();
  }
  if (version > 0) throw new StoreError('STORE_EXISTS', path, `${path} is already an smppgw database (schema version ${version}); nothing done`);
}

export function backupCommand(): Command {
  return storeOptions(new Command('backup').description('write a verified copy of the database to FILE (safe while the gateway runs)'))
    .argument('<file>', 'the backup file to write')
    .option('--force', 'replace FILE if it exists')
    .action(async (file: string, o: StoreFlags & { force?: boolean }) => {
      const { path } = storePath(o);
      const r = await backupDatabase(path, file, { force: o.force === true });
      process.stdout.write(`backup of ${path} written to ${r.path} (${r.bytes} bytes, schema version ${r.version}, integrity ok)\n`);
    });
}

export function restoreCommand(): Command {
  return storeOptions(
    new Command('restore').description('replace the database with a backup FILE (the gateway must be stopped; the current database is kept aside)'),
  )
    .argument('<file>', 'the backup file to restore')
    .action((file: string, o: StoreFlags) => {
      const { path } = storePath(o);
      const r = restoreDatabase(path, file);
      process.stdout.write(
        `restored ${r.path} from ${file} (schema version ${r.version})${r.replaced ? `; the previous database is kept as ${r.replaced}` : ''}\n`,
      );
    });
}

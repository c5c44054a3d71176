#!/usr/bin/env node
// smppgw command line: `start` runs the gateway; the operator commands over the SQLite tables,
// the simulator and the load tool hang off the same program.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { accountCommand, connectorCommand, routeCommand } from './cli/admin.js';
import { lockoutCommand } from './cli/lockout.js';
import { loadCommand, simCommand } from './cli/sim.js';
import { backupCommand, initCommand, restoreCommand } from './cli/store.js';
import { loadConfig } from './config.js';
import { EXIT, exitCodeFor, GatewayError, UnavailableError } from './errors.js';
import { asStoreError } from './store/health.js';
import { Gateway } from './gateway.js';
import { createLogger } from './log.js';

function portArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('must be a port number 0..65535');
  return n;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const program = new Command()
  .name('smppgw')
  .description('SMS aggregator gateway speaking SMPP')
  .version(packageVersion());

program
  .command('start')
  .description('run the gateway')
  .option('-c, --config <file>', 'YAML config file (default: built-in defaults, see config/smppgw.yaml)')
  .option('--db <file>', 'SQLite database file (store.path)')
  .option('--port <n>', 'SMPP port (smpp.port); 0 picks a free one', portArg)
  .option('--tls-port <n>', 'SMPP over TLS port (smpp.tls.port)', portArg)
  .option('--http-port <n>', 'metrics/health port (http.port)', portArg)
  .option('--init', 'no database at --db but traces of one (its .lock, -wal or -shm): start empty anyway, keeping the traces aside')
  .action(async (opts: { config?: string; db?: string; port?: number; tlsPort?: number; httpPort?: number; init?: boolean }) => {
    const overrides = {
      ...(opts.db !== undefined ? { store: { path: opts.db } } : {}),
      ...(opts.port !== undefined || opts.tlsPort !== undefined
        ? { smpp: { ...(opts.port !== undefined ? { port: opts.port } : {}), ...(opts.tlsPort !== undefined ? { tls: { port: opts.tlsPort } } : {}) } }
        : {}),
      ...(opts.httpPort !== undefined ? { http: { port: opts.httpPort } } : {}),
    };
    const config = loadConfig({ ...(opts.config ? { file: opts.config } : {}), overrides });
    const log = createLogger({ level: config.log.level });
    const gateway = new Gateway(config, log, undefined, { initStore: opts.init === true });
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      gateway.stop().then(
        () => process.exit(0),
        (err: Error) => {
          log.error({ err: err.message }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGHUP', () => {
      try {
        gateway.reloadConfig(loadConfig({ ...(opts.config ? { file: opts.config } : {}), overrides }));
      } catch (err) {
        log.error({ err: (err as Error).message }, 'configuration reload refused; the running configuration stays');
      }
    });
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    await gateway.start();
  });

program
  .command('status')
  .description('binds, queues and rates of the running gateway (from its HTTP endpoint)')
  .option('-c, --config <file>', 'YAML config file (for http.port)')
  .option('--url <url>', 'the gateway HTTP endpoint (default http://127.0.0.1:<http.port>)')
  .action(async (opts: { config?: string; url?: string }) => {
    const config = loadConfig(opts.config ? { file: opts.config } : {});
    const url = `${opts.url ?? `http://127.0.0.1:${config.http.port}`}/status`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    } catch (err) {
      throw new UnavailableError('STATUS_UNREACHABLE', `cannot reach the gateway at ${url}: ${(err as Error).message}`);
    }
    if (!res.ok) throw new UnavailableError('STATUS_UNREACHABLE', `${url} answered ${res.status}`);
    process.stdout.write(`${JSON.stringify(await res.json(), null, 2)}\n`);
  });

program.addCommand(accountCommand());
program.addCommand(connectorCommand());
program.addCommand(routeCommand());
program.addCommand(lockoutCommand());
program.addCommand(simCommand());
program.addCommand(loadCommand());
program.addCommand(initCommand());
program.addCommand(backupCommand());
program.addCommand(restoreCommand());

/**
 * Every command, however it was added: usage errors come back here as CommanderError (exit 64)
 * instead of commander's exit 1, printed as one line.
 */
function strict(cmd: Command, path: string): void {
  cmd.exitOverride().configureOutput({
    outputError: (text, write) => write(`smppgw: ${text.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()} (${path} --help for usage)\n`),
  });
  for (const sub of cmd.commands) strict(sub, `${path} ${sub.name()}`);
}
strict(program, 'smppgw');

// Exit codes by class (EXIT in errors.ts): a supervisor restarts on 1 and 75, not on a bad
// config (78), a bad flag (64) or a damaged database (74). One line on stderr, no stack, for ours.
program.parseAsync(process.argv).catch((thrown: unknown) => {
  // A full disk or another process's lock met by an operator command: one line, exit 75.
  const err = asStoreError(thrown);
  if (err instanceof InvalidArgumentError) {
    // Thrown by an action (commander reports those it catches itself, as below).
    process.stderr.write(`smppgw: ${err.message}\n`);
    process.exit(EXIT.USAGE);
  }
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.USAGE);
  if (err instanceof GatewayError) {
    process.stderr.write(`smppgw: ${err.message.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(exitCodeFor(err));
  }
  process.stderr.write(`smppgw: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(EXIT.FAILURE);
});

#!/usr/bin/env node
// smppgw command line: `start` runs the gateway; the operator commands over the SQLite tables,
// the simulator and the load tool hang off the same program.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { accountCommand, connectorCommand } from './cli/admin.js';
import { routeCommand } from './cli/routes.js';
import { askGateway, gatewayEndpoint, type GatewayHttpOptions } from './cli/gateway-http.js';
import { formatStatus } from './cli/status-view.js';
import { lockoutCommand } from './cli/lockout.js';
import { loadCommand, simCommand } from './cli/sim.js';
import { backupCommand, initCommand, restoreCommand } from './cli/store.js';
import { checkFiles, DEFAULTS, loadConfig, type Config } from './config.js';
import { ConfigError, EXIT, exitCodeFor, GatewayError, UnavailableError, UsageError } from './errors.js';
import { asStoreError } from './store/health.js';
import { Gateway } from './gateway.js';
import type { GatewayStatus } from './status.js';
import { createLogger } from './log.js';

function portArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('must be a port number 0..65535');
  return n;
}

/**
 * A listener that cannot listen, as one line naming the key: a port in use (exit 75: most often the
 * previous gateway still closing), a port or address this process may not use (78).
 */
function listenError(err: unknown, config: Config): unknown {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e?.syscall !== 'listen' && e?.syscall !== 'bind') return err;
  const key = e.port === config.http.port ? 'http.port' : e.port === config.smpp.tls.port && config.smpp.tls.enabled ? 'smpp.tls.port' : 'smpp.port';
  const where = `${e.address ?? '?'}:${e.port ?? '?'}`;
  if (e.code === 'EADDRINUSE')
    return new UnavailableError('PORT_IN_USE', `config ${key}: ${where} is in use (another smppgw, or the previous one still closing?)`);
  if (e.code === 'EACCES') return new ConfigError(key, `no permission to listen on ${where} (ports below 1024 need privileges)`);
  if (e.code === 'EADDRNOTAVAIL')
    return new ConfigError(key.startsWith('http') ? 'http.host' : 'smpp.host', `${e.address ?? '?'} is not an address of this machine`);
  return err;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const program = new Command().name('smppgw').description('SMS aggregator gateway speaking SMPP').version(packageVersion());

program
  .command('start')
  .description('run the gateway')
  .option('-c, --config <file>', 'YAML config file (default: built-in defaults, see config/smppgw.yaml)')
  .option('--db <file>', `SQLite database file (store.path; default: ${DEFAULTS.store.path}, from the working directory)`)
  .option('--port <n>', `SMPP port (smpp.port; default: ${DEFAULTS.smpp.port}); 0 picks a free one`, portArg)
  .option('--tls-port <n>', `SMPP over TLS port (smpp.tls.port; default: ${DEFAULTS.smpp.tls.port}; used with smpp.tls.enabled)`, portArg)
  .option('--http-port <n>', `metrics/health/status port (http.port; default: ${DEFAULTS.http.port})`, portArg)
  .option('--init', 'no database at --db but traces of one (its .lock, -wal or -shm): start empty anyway, keeping the traces aside')
  .action(async (opts: { config?: string; db?: string; port?: number; tlsPort?: number; httpPort?: number; init?: boolean }) => {
    const flags = { 'store.path': '--db', 'smpp.port': '--port', 'smpp.tls.port': '--tls-port', 'http.port': '--http-port' };
    const overrides = {
      ...(opts.db !== undefined ? { store: { path: opts.db } } : {}),
      ...(opts.port !== undefined || opts.tlsPort !== undefined
        ? { smpp: { ...(opts.port !== undefined ? { port: opts.port } : {}), ...(opts.tlsPort !== undefined ? { tls: { port: opts.tlsPort } } : {}) } }
        : {}),
      ...(opts.httpPort !== undefined ? { http: { port: opts.httpPort } } : {}),
    };
    const config = loadConfig({ ...(opts.config ? { file: opts.config } : {}), overrides, flags });
    checkFiles(config);
    const log = createLogger({ level: config.log.level });
    const gateway = new Gateway(config, log, {
      initStore: opts.init === true,
      // After a failed fsync the page cache cannot be trusted; a restart recovers from the last durable commit.
      onFatal: (err) => {
        log.fatal({ err: err.message }, 'could not flush the database to disk; exiting');
        process.exit(70);
      },
    });
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
        gateway.reloadConfig(loadConfig({ ...(opts.config ? { file: opts.config } : {}), overrides, flags }));
      } catch (err) {
        log.error({ err: (err as Error).message }, 'configuration reload refused; the running configuration stays');
      }
    });
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    try {
      await gateway.start();
    } catch (err) {
      throw listenError(err, config);
    }
  });

program
  .command('status')
  .description('binds, queues and rates of the running gateway (from its HTTP endpoint)')
  .option('-c, --config <file>', 'YAML config file (for http.port)')
  .option('--url <url>', 'the gateway HTTP endpoint (default http://127.0.0.1:<http.port>)')
  .option('--json', "print the endpoint's JSON as it is")
  .action(async (opts: GatewayHttpOptions & { json?: boolean }) => {
    const status = (await askGateway(opts, '/status')) as GatewayStatus;
    process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
  });

program
  .command('health')
  .description('exits 0 if the running gateway is alive (/healthz), 1 if not: for container health checks')
  .option('-c, --config <file>', 'YAML config file (for http.port; SMPPGW_HTTP__PORT works too)')
  .option('--url <url>', 'the gateway HTTP endpoint (default http://127.0.0.1:<http.port>)')
  .action(async (opts: { config?: string; url?: string }) => {
    const url = `${gatewayEndpoint(opts).base}/healthz`;
    const status = await fetch(url, { signal: AbortSignal.timeout(3_000) }).then(
      (r) => r.status,
      (err: Error) => err.message,
    );
    if (status === 200) return;
    process.stderr.write(`smppgw: ${url}: ${typeof status === 'number' ? `answered ${status}` : status}\n`);
    process.exitCode = 1;
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
    outputError: (text, write) =>
      write(
        `smppgw: ${text
          .replace(/^error: /, '')
          .replace(/\s*\n\s*/g, ' ')
          .trim()} (${path} --help for usage)\n`,
      ),
  });
  for (const sub of cmd.commands) strict(sub, `${path} ${sub.name()}`);
}
strict(program, 'smppgw');

/**
 * `account add a2 --password --json` would store the password "--json": a value that is another
 * option of the same command is refused (written as `--password=--json` it is taken as meant).
 */
program.hook('preAction', (_program, action) => {
  const names = new Set(action.options.flatMap((o) => [o.long, o.short]).filter((n): n is string => n !== undefined));
  const values = action.opts() as Record<string, unknown>;
  for (const option of action.options) {
    const value = values[option.attributeName()];
    if (typeof value !== 'string' || !names.has(value.split('=')[0]!)) continue;
    const flag = option.long ?? option.short!;
    if (process.argv.includes(`${flag}=${value}`)) continue;
    throw new UsageError(
      `option ${flag} got ${value}, which is an option of this command: give ${flag} its value (or write ${flag}=${value} if that is the value)`,
    );
  }
});

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
  // Not one of ours: still one line (the message, not the stack), exit 1.
  process.stderr.write(`smppgw: ${(err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(EXIT.FAILURE);
});

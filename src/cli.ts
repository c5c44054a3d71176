#!/usr/bin/env node
// smppgw command line: `start` runs the gateway; the operator commands over the SQLite tables,
// the simulator and the load tool hang off the same program.
import { Command, InvalidArgumentError } from 'commander';
import { accountCommand, connectorCommand, routeCommand } from './cli/admin.js';
import { loadCommand, simCommand } from './cli/sim.js';
import { loadConfig } from './config.js';
import { GatewayError } from './errors.js';
import { Gateway } from './gateway.js';
import { createLogger } from './log.js';

function portArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('must be a port number 0..65535');
  return n;
}

const program = new Command()
  .name('smppgw')
  .description('SMS aggregator gateway speaking SMPP')
  .showHelpAfterError();

program
  .command('start')
  .description('run the gateway')
  .option('-c, --config <file>', 'YAML config file (default: built-in defaults, see config/smppgw.yaml)')
  .option('--db <file>', 'SQLite database file (store.path)')
  .option('--port <n>', 'SMPP port (smpp.port); 0 picks a free one', portArg)
  .option('--tls-port <n>', 'SMPP over TLS port (smpp.tls.port)', portArg)
  .option('--http-port <n>', 'metrics/health port (http.port)', portArg)
  .action(async (opts: { config?: string; db?: string; port?: number; tlsPort?: number; httpPort?: number }) => {
    const overrides = {
      ...(opts.db !== undefined ? { store: { path: opts.db } } : {}),
      ...(opts.port !== undefined || opts.tlsPort !== undefined
        ? { smpp: { ...(opts.port !== undefined ? { port: opts.port } : {}), ...(opts.tlsPort !== undefined ? { tls: { port: opts.tlsPort } } : {}) } }
        : {}),
      ...(opts.httpPort !== undefined ? { http: { port: opts.httpPort } } : {}),
    };
    const config = loadConfig({ ...(opts.config ? { file: opts.config } : {}), overrides });
    const log = createLogger({ level: config.log.level });
    const gateway = new Gateway(config, log);
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
      throw new GatewayError('STATUS_UNREACHABLE', `cannot reach the gateway at ${url}: ${(err as Error).message}`);
    }
    if (!res.ok) throw new GatewayError('STATUS_UNREACHABLE', `${url} answered ${res.status}`);
    process.stdout.write(`${JSON.stringify(await res.json(), null, 2)}\n`);
  });

program.addCommand(accountCommand());
program.addCommand(connectorCommand());
program.addCommand(routeCommand());
program.addCommand(simCommand());
program.addCommand(loadCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof GatewayError) {
    process.stderr.write(`smppgw: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`smppgw: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

// `smppgw lockout list|clear`: the bind lockouts of the running gateway. They live in the daemon's
// memory, where the failed binds happen, so these commands ask its HTTP endpoint (the route shares
// /status's access rule) rather than a table: a table would turn every failed bind (an attacker's
// pace) into a database write, and a clear through it would wait for the next poll.
import { Command } from 'commander';
import { printRows } from './admin.js';
import { askGateway } from './gateway-http.js';

interface LockoutOptions {
  config?: string;
  url?: string;
  address?: string;
  systemId?: string;
  json?: boolean;
}

interface LockoutRow {
  kind: 'ip' | 'system_id';
  address: string;
  systemId?: string;
  until: number;
}

/** Asks the gateway's /lockouts route; a gateway that cannot be reached exits 69 in one line. */
function ask(o: LockoutOptions, method: 'GET' | 'DELETE'): Promise<unknown> {
  const query = new URLSearchParams({
    ...(o.address !== undefined ? { address: o.address } : {}),
    ...(o.systemId !== undefined ? { system_id: o.systemId } : {}),
  });
  return askGateway(o, `/lockouts${query.size ? `?${query}` : ''}`, method);
}

function options(cmd: Command): Command {
  return cmd
    .option('--address <ip>', 'only lockouts of this address')
    .option('--system-id <id>', 'only lockouts of this system_id (address lockouts are matched by --address only)')
    .option('-c, --config <file>', 'YAML config file (for http.port)')
    .option('--url <url>', 'the gateway HTTP endpoint (default http://127.0.0.1:<http.port>)');
}

export function lockoutCommand(): Command {
  const lockout = new Command('lockout').description('bind lockouts of the running gateway (after repeated failed binds)');
  options(lockout.command('list').description('lockouts in force').option('--json', 'print JSON')).action(async (o: LockoutOptions) => {
    const rows = (await ask(o, 'GET')) as LockoutRow[];
    printRows(
      rows.map((r) => ({ kind: r.kind, address: r.address, system_id: r.systemId ?? '*', until: new Date(r.until).toISOString() })),
      o.json,
    );
  });
  options(lockout.command('clear').description('end lockouts now (all of them without --address or --system-id)')).action(async (o: LockoutOptions) => {
    const { cleared } = (await ask(o, 'DELETE')) as { cleared: number };
    process.stdout.write(`cleared ${cleared} lockout(s)\n`);
  });
  return lockout;
}

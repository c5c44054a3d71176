// The world a run fuzzes through: the SMSC simulator (in this process), the gateway's account,
// connectors and routes (written with the operator CLI), and the gateway started with the settings
// a hostile run needs.
import { SmscSimulator } from '../../../src/sim/smsc.js';
import { seededRandom } from '../../../src/sim/util.js';
import { cli } from '../gateway-process.js';
import type { HostileCarrier } from './carrier.js';
import { startGatewayChild, type GatewayChild } from './gateway-child.js';
import { ACCOUNT, sleep } from './shared.js';
import type { GatewayFuzzOptions } from './summary.js';

/** The well-behaved carrier: receipts at once, MOs when the run sends them. */
export function newSimulator(seed: number): SmscSimulator {
  return new SmscSimulator({ dlrDelayMs: 0, window: 50, maxTracked: 10_000, retryDelayMs: 200, random: seededRandom(seed ^ 0x51a1) });
}

/**
 * The account (room for every fuzzing connection and its window), both carriers as connectors, MT
 * routes (catch-all, prefix, failover, weighted, a source regex) and MO routes (short code, keyword,
 * source prefix, connector).
 */
export function configureGateway(db: string, simPort: number, carrierPort: number, sessions: number, window: number): void {
  const setup: string[][] = [
    [
      'account',
      'add',
      ACCOUNT.systemId,
      '--password',
      ACCOUNT.password,
      '--tps',
      '0',
      '--window',
      String(Math.max(200, window * 2)),
      '--max-binds',
      String(sessions * 3 + 4),
    ],
    ['connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(simPort), '--system-id', 'gw', '--password', 'pw', '--bind', 'trx', '--window', '50'],
    [
      'connector',
      'add',
      'hostile',
      '--host',
      '127.0.0.1',
      '--port',
      String(carrierPort),
      '--system-id',
      'gw',
      '--password',
      'pw',
      '--bind',
      'trx',
      '--window',
      '20',
      '--dlr-id',
      'hex',
    ],
    ['route', 'add', 'mt', '--connector', 'sim'],
    ['route', 'add', 'mt', '--connector', 'hostile', '--prefix', '99', '--order', '50'],
    ['route', 'add', 'mt', '--kind', 'failover', '--connector', 'hostile,sim', '--prefix', '98', '--order', '50'],
    ['route', 'add', 'mt', '--kind', 'weighted', '--connector', 'sim:3,hostile:1', '--prefix', '97', '--order', '50'],
    ['route', 'add', 'mt', '--connector', 'sim', '--source', '/^[A-Za-z][A-Za-z0-9 ]*$/', '--order', '60'],
    ['route', 'add', 'mo', '--account', ACCOUNT.systemId, '--short-code', '12345', '--keyword', 'VOTE'],
    ['route', 'add', 'mo', '--account', ACCOUNT.systemId, '--short-code', '55555'],
    ['route', 'add', 'mo', '--account', ACCOUNT.systemId, '--source-prefix', '4917', '--order', '150'],
    ['route', 'add', 'mo', '--account', ACCOUNT.systemId, '--connector', 'hostile', '--source-prefix', '3', '--order', '200'],
  ];
  cli(db, 'init');
  for (const args of setup) cli(db, ...args);
}

export function startFuzzedGateway(db: string, options: GatewayFuzzOptions): Promise<GatewayChild> {
  return startGatewayChild(db, {
    SMPPGW_SMPP__HOST: '127.0.0.1',
    SMPPGW_HTTP__HOST: '127.0.0.1',
    SMPPGW_STORE__SYNCHRONOUS: options.synchronous ?? 'normal',
    // Hostile binds come from 127.0.0.1 like everything else: no lockout, no per-address cap.
    SMPPGW_SECURITY__BINDFAILURES: '0',
    // Bodies kept, so the end checks can compare stored PDUs with what was sent.
    SMPPGW_STORE__BODYRETENTIONHOURS: '24',
    SMPPGW_SECURITY__MAXCONNECTIONSPERIP: '1000',
    // The hostile carrier's temporary errors are retried quickly, so the run settles.
    SMPPGW_SMSC__RETRYBASEMS: '50',
    SMPPGW_SMSC__RETRYMAXMS: '500',
    SMPPGW_LOG_LEVEL: options.logLevel ?? 'info',
  });
}

/** Both carriers bound before the first message (10 s at most). */
export async function carriersBound(sim: SmscSimulator, carrier: HostileCarrier): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (sim.summary().activeBinds > 0 && carrier.up) break;
    await sleep(50);
  }
  if (sim.summary().activeBinds === 0 || !carrier.up) throw new Error('the gateway did not bind to both carriers within 10 s');
}

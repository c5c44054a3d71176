// A gateway child process ready for traffic: a fresh database with one account, the bundled SMSC
// simulator as its carrier, and a catch-all MT route to it; and that account's transceiver.
import assert from 'node:assert/strict';
import { SmscSimulator } from '../../src/sim/smsc.js';
import { SmppClient } from '../../src/smpp/client.js';
import type { Pdu } from '../../src/smpp/pdu.js';
import { cli, startGateway, tempDir, type GatewayProcess } from './gateway-process.js';

export const ESME = { systemId: 'acme', password: 'acme123' };

/**
 * An account, a simulator as its carrier (receipts at once; a receipt refused with a temporary
 * error is sent again every 200 ms) and a route to it, then the gateway.
 */
export async function gatewayWithCarrier(
  db: string,
  env: NodeJS.ProcessEnv = {},
  connectorArgs: string[] = [],
): Promise<{ gw: GatewayProcess; sim: SmscSimulator }> {
  const sim = new SmscSimulator({ dlrDelayMs: 0, retryDelayMs: 200, maxAttempts: 1_000 });
  await sim.start();
  cli(db, 'init');
  cli(db, 'account', 'add', ESME.systemId, '--password', ESME.password, '--window', '100');
  cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(sim.port), '--system-id', 'gw', '--password', 'pw', ...connectorArgs);
  cli(db, 'route', 'add', 'mt', '--connector', 'sim');
  const gw = await startGateway(db, [], { SMPPGW_SMSC__RETRYBASEMS: '50', SMPPGW_SMSC__RETRYMAXMS: '200', ...env });
  await sim.until(() => sim.summary().activeBinds >= 1, 10_000, 'the gateway bound to the carrier');
  return { gw, sim };
}

/**
 * gatewayWithCarrier in a fresh temp directory, with everything (gateway, simulator, directory)
 * taken down after the test `t`.
 */
export async function carrierGatewayForTest(
  t: { after(fn: () => unknown): void },
  env: NodeJS.ProcessEnv = {},
): Promise<{ gw: GatewayProcess; sim: SmscSimulator; db: string }> {
  const tmp = tempDir();
  const db = `${tmp.dir}/gw.db`;
  const { gw, sim } = await gatewayWithCarrier(db, env).catch((err: unknown) => {
    tmp.cleanup();
    throw err;
  });
  // One hook, in this order: the directory goes only once nothing writes in it any more.
  t.after(async () => {
    await gw.kill();
    await sim.stop();
    tmp.cleanup();
  });
  return { gw, sim, db };
}

/** The ESME account's transceiver on `gw`: submits (each must be accepted), and collects the receipts' texts. */
export async function receiptEsme(t: { after(fn: () => unknown): void }, gw: GatewayProcess) {
  const receipts: string[] = [];
  const client = new SmppClient({
    host: '127.0.0.1',
    port: gw.smppPort,
    bind: { command: 'bind_transceiver', system_id: ESME.systemId, password: ESME.password },
    session: { enquireLinkMs: 0 },
    handlers: {
      request: (pdu: Pdu) => {
        if (pdu.command === 'deliver_sm') receipts.push(pdu.short_message.toString());
        return {};
      },
    },
  });
  client.start();
  t.after(() => client.close(1_000));
  const session = await client.whenBound();
  const submit = async (text: string) => {
    const r = await session.request({
      command: 'submit_sm',
      source_addr: 'ACME',
      destination_addr: '4917000001',
      registered_delivery: 1,
      short_message: Buffer.from(text),
    });
    assert.equal(r.command_status, 0);
  };
  return { receipts, submit };
}

// The gateway originates a message itself (as a compliance reply will): through the same intake,
// charged to a named account, to the carrier with a receipt recorded in the ledger, and no receipt
// in any outbox: a bound receiver of that account hears nothing of it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config.js';
import { Gateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log.js';
import { SmscSimulator } from '../../src/sim/smsc.js';
import type { SmscEvent } from '../../src/sim/smsc-types.js';
import { SmppClient } from '../../src/smpp/client.js';
import type { Pdu } from '../../src/smpp/pdu.js';
import { AccountStore } from '../../src/store/accounts.js';
import { cli, tempDir } from '../helpers/gateway-process.js';

test('a system-originated MT reaches the carrier, its receipt is recorded, and no account is told', async (t) => {
  const tmp = tempDir();
  const db = join(tmp.dir, 'gw.db');
  const sim = new SmscSimulator({ dlrDelayMs: 0 });
  await sim.start();
  const submits: Array<Extract<SmscEvent, { type: 'submit' }>> = [];
  sim.on('submit', (e: Extract<SmscEvent, { type: 'submit' }>) => submits.push(e));
  cli(db, 'init');
  cli(db, 'account', 'add', 'owner', '--password', 'pw', '--tps', '1');
  cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(sim.port), '--system-id', 'gw', '--password', 'pw');
  cli(db, 'route', 'add', 'mt', '--connector', 'sim');
  const config = loadConfig({
    env: {},
    overrides: { store: { path: db, synchronous: 'normal' }, smpp: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 } },
  });
  const gw = new Gateway(config, silentLogger);
  const addresses = await gw.start();
  const heard: Pdu[] = [];
  const receiver = new SmppClient({
    host: '127.0.0.1',
    port: addresses.smpp.port,
    bind: { command: 'bind_receiver', system_id: 'owner', password: 'pw' },
    session: { enquireLinkMs: 0 },
    handlers: { request: (pdu: Pdu) => void heard.push(pdu) },
  });
  t.after(async () => {
    await receiver.close(2_000);
    await gw.stop();
    await sim.stop();
    tmp.cleanup();
  });
  receiver.start();
  await receiver.whenBound();
  await sim.until(() => sim.summary().activeBinds >= 1, 10_000, 'the gateway bound to the carrier');

  const read = new Database(db, { readonly: true });
  t.after(() => read.close());
  const owner = new AccountStore(read).get('owner')!;
  const request = {
    accountId: owner.id,
    origin: 'system' as const,
    source: { addr: '12345', ton: 3, npi: 0 },
    destination: { addr: '447700900123', ton: 1, npi: 1 },
    body: Buffer.from('You are unsubscribed. Reply START to opt in.'),
    dataCoding: 0,
    esmClass: 0,
    registeredDelivery: 1,
  };
  // The account's rate is 1/s; a system message is counted against it but never refused (unit-tested with a manual clock).
  const ids = await Promise.all([gw.intake.submit(request), gw.intake.submit({ ...request, destination: { ...request.destination, addr: '447700900124' } })]);
  await sim.until(() => submits.length === 2, 10_000, 'both at the carrier');
  assert.ok(
    submits.every((s) => s.key.endsWith('You are unsubscribed. Reply START to opt in.')),
    JSON.stringify(submits.map((s) => s.key)),
  );
  const row = read.prepare('SELECT state, origin, account_id, connector, smsc_id FROM messages WHERE id = ?');
  for (let i = 0; i < 200 && ids.some((id) => (row.get(id) as { state: number }).state !== 2); i++) await new Promise((r) => setTimeout(r, 25));
  for (const id of ids)
    assert.deepEqual(
      { ...(row.get(id) as object), smsc_id: typeof (row.get(id) as { smsc_id: unknown }).smsc_id },
      { state: 2, origin: 'system', account_id: owner.id, connector: 'sim', smsc_id: 'string' },
    );
  assert.equal(read.prepare('SELECT COUNT(*) FROM outbox').pluck().get(), 0, 'no receipt in any outbox');
  assert.ok(sim.summary().receiptsAcked >= 2, "the carrier's receipts were taken");
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(heard, [], "the account's receiver heard nothing");
});

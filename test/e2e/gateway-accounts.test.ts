// An account removed and re-created under the same system_id must see nothing of the old one:
// not its pending receipts (their text: copy carries the start of an OTP), not its messages by
// query_sm. Removal is refused while work is pending, unless --purge. Real gateway process,
// real simulator, the operator CLI against the same file.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { test } from 'node:test';
import { SmppClient } from '../../src/smpp/client.js';
import type { Pdu } from '../../src/smpp/pdu.js';
import { ESME, carrierGatewayForTest } from '../helpers/gateway-carrier.js';
import { cli } from '../helpers/gateway-process.js';
import { waitFor } from '../helpers/wait.js';

test("a re-created account gets none of the old tenant's receipts or messages; removal needs --purge while work waits", async (t) => {
  const { gw, db } = await carrierGatewayForTest(t);

  // The old tenant sends 50 OTPs asking for receipts, on a transmitter only: the receipts wait.
  const old = new SmppClient({
    host: '127.0.0.1',
    port: gw.smppPort,
    bind: { command: 'bind_transmitter', system_id: ESME.systemId, password: ESME.password },
  });
  old.start();
  const oldSession = await old.whenBound();
  const oldIds: string[] = [];
  for (let i = 0; i < 50; i++) {
    const r = await oldSession.request({
      command: 'submit_sm',
      source_addr: 'BANK',
      destination_addr: `4915100000${String(i).padStart(3, '0')}`,
      registered_delivery: 1,
      short_message: Buffer.from(`Your code is ${100000 + i}`),
    });
    assert.equal(r.command_status, 0);
    oldIds.push(r.message_id);
  }
  const ledger = new Database(db, { readonly: true });
  t.after(() => ledger.close());
  await waitFor(
    () => (ledger.prepare("SELECT COUNT(*) FROM outbox WHERE kind = 'dlr'").pluck().get() as number) === 50,
    'the 50 receipts in the outbox',
    15_000,
  );

  assert.throws(() => cli(db, 'account', 'remove', ESME.systemId), /acme has 0 queued message\(s\) and 50 receipt\(s\)\/MO\(s\) waiting; --purge/);
  assert.match(
    cli(db, 'account', 'remove', ESME.systemId, '--purge'),
    /removed account acme \(0 queued message\(s\) ended DELETED, 50 receipt\(s\)\/MO\(s\) dropped\)/,
  );
  // The daemon closes the removed account's session.
  await waitFor(() => old.session === undefined, 'the old session closed', 10_000);
  await old.close();
  cli(db, 'account', 'add', ESME.systemId, '--password', 'other');

  const received: Pdu[] = [];
  const fresh = new SmppClient({
    host: '127.0.0.1',
    port: gw.smppPort,
    bind: { command: 'bind_transceiver', system_id: ESME.systemId, password: 'other' },
    handlers: { request: (pdu) => (received.push(pdu), {}) },
  });
  // The new password binds only once the daemon has the new account: retry until then.
  fresh.start();
  t.after(() => fresh.close());
  const session = await fresh.whenBound();
  for (const id of oldIds.slice(0, 5)) {
    assert.equal((await session.request({ command: 'query_sm', message_id: id })).command_status, 0x67, `old message ${id} is not the new account's`);
  }
  // The new account's own message and receipt: it arrives, and it is the only one.
  const own = await session.request({
    command: 'submit_sm',
    source_addr: 'SHOP',
    destination_addr: '4915199999999',
    registered_delivery: 1,
    short_message: Buffer.from('hello'),
  });
  assert.equal(own.command_status, 0);
  await waitFor(() => received.length >= 1, 'its receipt', 15_000);
  await new Promise((r) => setTimeout(r, 300)); // anything queued behind it would follow at once
  assert.equal(received.length, 1, `only its own receipt: ${received.map((p) => ('short_message' in p ? p.short_message.toString() : p.command)).join(' | ')}`);
  assert.match((received[0] as Extract<Pdu, { command: 'deliver_sm' }>).short_message.toString(), new RegExp(`^id:${own.message_id} `));
  // The old messages stay in the ledger under the old owner (billing).
  const owners = ledger
    .prepare('SELECT a.removed_at IS NOT NULL AS removed, COUNT(*) AS n FROM messages m JOIN accounts a ON a.id = m.account_id GROUP BY 1 ORDER BY 1')
    .all();
  assert.deepEqual(owners, [
    { removed: 0, n: 1 },
    { removed: 1, n: 50 },
  ]);
});

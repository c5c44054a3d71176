// A carrier away for long: messages accepted meanwhile are held in memory only up to
// messages.maxInMemory; the rest wait in the ledger and are paged in when the carrier is back, each
// sent once. cancel_sm reaches one waiting in the ledger only; past their validity they all end
// EXPIRED with the receipt the account asked for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageState } from '../../src/smpp/message-state.js';
import { parseReceipt, statOf } from '../../src/dlr/receipt.js';
import { SmscSimulator } from '../../src/sim/smsc.js';
import { SmppClient } from '../../src/smpp/client.js';
import type { Session } from '../../src/smpp/session.js';
import { messageStates } from '../helpers/db-read.js';
import { cli, startGateway, tempDir, type GatewayProcess } from '../helpers/gateway-process.js';
import { submitMany } from '../helpers/submit-many.js';
import { freePort, waitFor } from '../helpers/wait.js';

/** An ESME (transceiver) that sends with receipts asked for and keeps every receipt's stat by id. */
async function esme(gw: GatewayProcess) {
  let session: Session | undefined;
  const receipts = new Map<string, string[]>();
  const client = new SmppClient({
    host: '127.0.0.1',
    port: gw.smppPort,
    bind: { command: 'bind_transceiver', system_id: 'acme', password: 'acme123' },
    session: { window: 100 },
    handlers: {
      request: (pdu) => {
        const r = pdu.command === 'deliver_sm' ? parseReceipt(pdu) : undefined;
        if (r) receipts.set(r.id, [...(receipts.get(r.id) ?? []), statOf(r.state)]);
        return {};
      },
    },
    onBound: (s) => (session = s),
  });
  client.start();
  await waitFor(() => session !== undefined, 'ESME bound');
  const send = (n: number) => submitMany(session!, n, 'backlog', 20);
  return { receipts, send, session: () => session!, close: () => client.close(2_000) };
}

test('a backlog past messages.maxInMemory waits in the ledger and reaches the carrier once each when it is back; cancel_sm ends one waiting there', async (t) => {
  const tmp = tempDir();
  const db = `${tmp.dir}/gw.db`;
  const carrierPort = await freePort();
  cli(db, 'init');
  cli(db, 'account', 'add', 'acme', '--password', 'acme123', '--window', '100');
  cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(carrierPort), '--system-id', 'gw', '--password', 'pw', '--window', '50');
  cli(db, 'route', 'add', 'mt', '--connector', 'sim');
  const gw = await startGateway(db, [], { SMPPGW_MESSAGES__MAXINMEMORY: '50' });
  const sim = new SmscSimulator({ port: carrierPort, dlrDelayMs: 0 });
  const e = await esme(gw);
  try {
    const ids = await e.send(400);
    const status = await gw.status();
    t.diagnostic(`400 accepted with the carrier away: ${status.messagesInMemory} in memory, ledger ${JSON.stringify(messageStates(db))}`);
    assert.ok(status.messagesInMemory <= 50, `at most maxInMemory held: ${status.messagesInMemory}`);
    assert.equal(messageStates(db)[0], 400, 'all 400 committed as queued');
    await gw.waitLog((l) => l.msg === 'messages held in memory at the limit; new ones wait in the ledger');

    // The newest is surely one only the ledger holds.
    const last = ids[399]!;
    const cancel = await e.session().request({ command: 'cancel_sm', message_id: last, source_addr: 'SHOP', destination_addr: '4917000399' });
    assert.equal(cancel.command_status, 0, 'cancelled while it waited in the ledger');

    await sim.start();
    await waitFor(() => e.receipts.size === 400, 'a receipt for every message', 30_000);
    assert.deepEqual(e.receipts.get(last), ['DELETED']);
    const s = sim.summary();
    assert.equal(s.submitsOk, 399, 'every other message reached the carrier');
    assert.equal(s.duplicates, 0, 'none twice');
    for (const id of ids.slice(0, 399)) assert.deepEqual(e.receipts.get(id), ['DELIVRD'], `one DELIVRD receipt for ${id}`);
    await gw.waitLog((l) => l.msg === 'every queued message is held in memory again');
  } finally {
    await e.close();
    assert.equal(await gw.stop(), 0);
    await sim.stop();
    tmp.cleanup();
  }
});

test('messages that wait past their validity (held or in the ledger only) end EXPIRED with their receipts; none stays queued', async () => {
  const tmp = tempDir();
  const db = `${tmp.dir}/gw.db`;
  cli(db, 'init');
  cli(db, 'account', 'add', 'acme', '--password', 'acme123', '--window', '100');
  cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(await freePort()), '--system-id', 'gw', '--password', 'pw');
  cli(db, 'route', 'add', 'mt', '--connector', 'sim');
  const gw = await startGateway(db, [], { SMPPGW_MESSAGES__MAXINMEMORY: '20', SMPPGW_MESSAGES__DEFAULTVALIDITYMS: '1500', SMPPGW_MESSAGES__SWEEPMS: '200' });
  const e = await esme(gw);
  try {
    const ids = await e.send(60);
    await waitFor(() => e.receipts.size === 60, 'an EXPIRED receipt for every message', 20_000);
    for (const id of ids) assert.deepEqual(e.receipts.get(id), ['EXPIRED'], `one EXPIRED receipt for ${id}`);
    assert.deepEqual(messageStates(db), { [MessageState.EXPIRED]: 60 }, 'all final as EXPIRED, none queued');
  } finally {
    await e.close();
    assert.equal(await gw.stop(), 0);
    tmp.cleanup();
  }
});

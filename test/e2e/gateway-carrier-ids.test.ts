// Carrier ids the gateway cannot use (issue 10, item 5). A carrier answering submit_sm OK with an
// empty message_id, or with one longer than SMPP's 64 characters: the first message is kept as sent
// without an id (no receipt can match it; its validity ends it) and the second is accepted with its
// id stored whole (its receipt matches), not refused; both are counted and logged. A real carrier
// (an SmppServer in this process), the gateway as a child process.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SmppServer } from '../../src/smpp/server.js';
import type { Pdu } from '../../src/smpp/pdu.js';
import type { Session } from '../../src/smpp/session.js';
import { readDb } from '../helpers/db-read.js';
import { ESME, receiptEsme } from '../helpers/gateway-carrier.js';
import { cli, startGateway, tempDir } from '../helpers/gateway-process.js';
import { waitFor } from '../helpers/wait.js';

const LONG_ID = `L${'0123456789'.repeat(7)}`; // 71 characters

test('an empty carrier id keeps the message sent without one; a 71-character id is stored whole and its receipt matches; both counted', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const db = `${dir}/gw.db`;
  let carrierSession: Session | undefined;
  const carrier = new SmppServer({
    host: '127.0.0.1',
    port: 0,
    handlers: {
      bind: (_pdu, session) => {
        carrierSession = session;
        return { system_id: 'carrier' };
      },
      request: (pdu: Pdu) => {
        if (pdu.command !== 'submit_sm') return {};
        return { message_id: pdu.short_message.toString() === 'empty' ? '' : LONG_ID };
      },
    },
  });
  const { port } = await carrier.listen();
  t.after(() => carrier.close(1_000));
  cli(db, 'init');
  cli(db, 'account', 'add', ESME.systemId, '--password', ESME.password);
  cli(db, 'connector', 'add', 'c1', '--host', '127.0.0.1', '--port', String(port), '--system-id', 'gw', '--password', 'pw');
  cli(db, 'route', 'add', 'mt', '--connector', 'c1');
  const gw = await startGateway(db);
  t.after(() => gw.kill());
  await waitFor(() => carrierSession?.isBound === true, 'the gateway bound to the carrier', 10_000);

  const { receipts, submit } = await receiptEsme(t, gw);
  await submit('empty');
  await submit('long');

  const row = (text: string) =>
    readDb(
      db,
      (d) =>
        (d.prepare('SELECT state, smsc_id_raw AS raw FROM messages ORDER BY id').all() as Array<{ state: number; raw: string | null }>)[
          text === 'empty' ? 0 : 1
        ]!,
    );
  await waitFor(() => row('empty').state === 1 && row('long').state === 1, 'both recorded as sent', 10_000);
  assert.equal(row('empty').raw, null, 'no id stored for the empty one');
  assert.equal(row('long').raw, LONG_ID, 'the long id stored whole');

  // The carrier's receipt for the long id matches its message.
  await carrierSession!.request({
    command: 'deliver_sm',
    source_addr: '4917000001',
    destination_addr: 'ACME',
    esm_class: 0x04,
    short_message: Buffer.from(`id:${LONG_ID} sub:001 dlvrd:001 submit date:2612040000 done date:2612040000 stat:DELIVRD err:000 text:long`),
  });
  await waitFor(() => row('long').state === 2, 'the long-id message DELIVRD', 10_000);
  await waitFor(() => receipts.some((r) => r.includes('stat:DELIVRD')), 'the account got its receipt', 10_000);
  assert.equal(row('empty').state, 1, 'the empty-id message stays sent (its validity ends it)');

  const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
  assert.match(metrics, /^smppgw_carrier_id_anomalies_total\{connector="c1",kind="empty"\} 1$/m);
  assert.match(metrics, /^smppgw_carrier_id_anomalies_total\{connector="c1",kind="long"\} 1$/m);
  await gw.waitLog((l) => l.connector === 'c1' && l.kind === 'empty');
  // One line per connector per interval: the long one, right behind, is counted, not logged.
  assert.equal(gw.logs.filter((l) => l.kind === 'long').length, 0);
});

// The rest of the ESME-facing PDUs through the gateway (child process): data_sm, submit_multi,
// query_sm, cancel_sm and replace_sm.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { SmscSimulator, type SmscEvent } from '../../src/sim/smsc.js';
import { SmppClient } from '../../src/smpp/client.js';
import { TLVS } from '../../src/smpp/defs.js';
import type { Session } from '../../src/smpp/session.js';
import { cli, startGateway, tempDir, type GatewayProcess } from '../helpers/gateway-process.js';
import { idsOfDb, rowOf } from '../helpers/message-ids.js';

const PAYLOAD = TLVS.get('message_payload')!.tag;

describe('data_sm, submit_multi, query_sm, cancel_sm, replace_sm', () => {
  let tmp: ReturnType<typeof tempDir>;
  let sim: SmscSimulator;
  let gw: GatewayProcess;
  let client: SmppClient;
  let esme: Session;
  let db: string;
  const submits: Array<Extract<SmscEvent, { type: 'submit' }>> = [];

  before(async () => {
    tmp = tempDir();
    // Receipts come late, so sent messages stay ENROUTE while the tests look at them.
    sim = new SmscSimulator({ dlrDelayMs: 60_000 });
    await sim.start();
    sim.on('submit', (e: Extract<SmscEvent, { type: 'submit' }>) => submits.push(e));
    db = `${tmp.dir}/gw.db`;
    cli(db, 'init');
    cli(db, 'account', 'add', 'acme', '--password', 'pw');
    cli(db, 'account', 'add', 'other', '--password', 'pw');
    cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(sim.port), '--system-id', 'gw', '--password', 'x');
    // Nothing listens on port 1: messages for 44… stay queued here.
    cli(db, 'connector', 'add', 'dead', '--host', '127.0.0.1', '--port', '1', '--system-id', 'gw', '--password', 'x');
    cli(db, 'route', 'add', 'mt', '--connector', 'sim', '--prefix', '49');
    cli(db, 'route', 'add', 'mt', '--connector', 'dead', '--prefix', '44');
    // The same simulator, with schedule_delivery_time held here until due.
    cli(db, 'connector', 'add', 'later', '--host', '127.0.0.1', '--port', String(sim.port), '--system-id', 'gw', '--password', 'x', '--schedule', 'hold');
    cli(db, 'route', 'add', 'mt', '--connector', 'later', '--prefix', '47');
    gw = await startGateway(db);
    client = new SmppClient({ host: '127.0.0.1', port: gw.smppPort, bind: { command: 'bind_transceiver', system_id: 'acme', password: 'pw' } });
    client.start();
    esme = await client.whenBound();
  });
  after(async () => {
    await client.close();
    assert.equal(await gw.stop(), 0);
    await sim.stop();
    tmp.cleanup();
  });

  const submit = (destination: string, text: string) =>
    esme.request({ command: 'submit_sm', source_addr: 'ACME', destination_addr: destination, registered_delivery: 1, short_message: Buffer.from(text) });

  test('data_sm is an MT: answered with an id, and its payload reaches the carrier', async () => {
    const resp = await esme.request({
      command: 'data_sm',
      source_addr: 'ACME',
      destination_addr: '4915100000001',
      tlvs: [{ tag: PAYLOAD, value: Buffer.from('payload text') }],
    });
    assert.equal(resp.command_status, 0);
    assert.match(resp.message_id, /^[0-9a-f]+$/);
    await sim.until(() => submits.some((e) => e.key.endsWith('payload text')));
  });

  test('submit_multi: one message per destination; a destination without a route is listed in unsuccess_sme', async () => {
    const resp = await esme.request({
      command: 'submit_multi',
      source_addr: 'ACME',
      dest_address: ['4915100000002', '3361234567', '4915100000003'].map((a) => ({
        dest_flag: 1 as const,
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: a,
      })),
      short_message: Buffer.from('multi'),
    });
    assert.equal(resp.command_status, 0);
    assert.deepEqual(resp.unsuccess_sme, [{ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '3361234567', error_status_code: 0x0b }]);
    await sim.until(() => submits.filter((e) => e.key.endsWith('\u0000multi')).length === 2);
  });

  test('query_sm: ENROUTE for a message queued or sent; an id of another account or none is ESME_RQUERYFAIL', async () => {
    const queued = await submit('447700900001', 'waits here');
    const q1 = await esme.request({ command: 'query_sm', message_id: queued.message_id, source_addr: 'ACME' });
    assert.deepEqual([q1.command_status, q1.message_state, q1.final_date], [0, 1, '']);
    const sent = await submit('4915100000004', 'goes out');
    await sim.until(() => submits.some((e) => e.key.endsWith('goes out')));
    const q2 = await esme.request({ command: 'query_sm', message_id: sent.message_id, source_addr: 'ACME' });
    assert.deepEqual([q2.command_status, q2.message_state], [0, 1]);
    const other = new SmppClient({ host: '127.0.0.1', port: gw.smppPort, bind: { command: 'bind_transmitter', system_id: 'other', password: 'pw' } });
    other.start();
    const o = await other.whenBound();
    assert.equal((await o.request({ command: 'query_sm', message_id: sent.message_id })).command_status, 0x67, 'not its message');
    await other.close();
    assert.equal((await esme.request({ command: 'query_sm', message_id: 'zzz' })).command_status, 0x67);
  });

  test('--schedule hold: a message due later is held here (replace_sm and cancel_sm reach it) and one due soon goes out when due', async () => {
    const held = await esme.request({
      command: 'submit_sm',
      source_addr: 'ACME',
      destination_addr: '4790000001',
      schedule_delivery_time: '000001000000000R',
      short_message: Buffer.from('in an hour'),
    });
    const soon = await esme.request({
      command: 'submit_sm',
      source_addr: 'ACME',
      destination_addr: '4790000002',
      schedule_delivery_time: '000000000002000R',
      short_message: Buffer.from('in two seconds'),
    });
    assert.deepEqual([held.command_status, soon.command_status], [0, 0]);
    await submit('4790000003', 'at once');
    await sim.until(() => submits.some((e) => e.key.endsWith('at once')));
    const q = await esme.request({ command: 'query_sm', message_id: held.message_id, source_addr: 'ACME' });
    assert.equal(q.message_state, 1, 'ENROUTE while held');
    const r = await esme.request({
      command: 'replace_sm',
      message_id: held.message_id,
      source_addr: 'ACME',
      short_message: Buffer.from('replaced, still in an hour'),
    });
    assert.equal(r.command_status, 0);
    await sim.until(() => submits.some((e) => e.key.endsWith('in two seconds')));
    assert.equal((await esme.request({ command: 'cancel_sm', message_id: held.message_id, source_addr: 'ACME' })).command_status, 0);
    assert.equal((await esme.request({ command: 'query_sm', message_id: held.message_id, source_addr: 'ACME' })).message_state, 4, 'DELETED');
    assert.ok(!submits.some((e) => e.key.includes('in an hour')), 'the held message never left');
  });

  test('cancel_sm of a message still queued here deletes it: query says DELETED, and it never leaves', async () => {
    const r = await submit('447700900002', 'cancel me');
    const c = await esme.request({ command: 'cancel_sm', message_id: r.message_id, source_addr: 'ACME', destination_addr: '447700900002' });
    assert.equal(c.command_status, 0);
    const q = await esme.request({ command: 'query_sm', message_id: r.message_id, source_addr: 'ACME' });
    assert.equal(q.message_state, 4, 'DELETED');
    assert.match(q.final_date, /^\d{12}000\+$/);
    assert.equal((await esme.request({ command: 'cancel_sm', message_id: r.message_id })).command_status, 0x11, 'a final message cannot be cancelled');
  });

  test("cancel_sm of a message the carrier has: forwarded with the carrier id, the carrier's refusal is ESME_RCANCELFAIL", async () => {
    const r = await submit('4915100000005', 'at the carrier');
    await sim.until(() => submits.some((e) => e.key.endsWith('at the carrier')));
    // Once the carrier's id is recorded, cancel_sm goes to the carrier with that id.
    const ledger = new Database(db, { readonly: true });
    for (
      let i = 0;
      i < 200 &&
      !ledger
        .prepare('SELECT smsc_id FROM messages WHERE id = ?')
        .pluck()
        .get(rowOf(idsOfDb(db), r.message_id));
      i++
    )
      await new Promise((res) => setTimeout(res, 25));
    ledger.close();
    const c = await esme.request({ command: 'cancel_sm', message_id: r.message_id });
    assert.equal(c.command_status, 0x11, 'the simulator refuses cancel_sm');
  });

  test('replace_sm of a queued message: the carrier gets the new text once the connector comes up', async () => {
    const r = await submit('447700900003', 'old text');
    assert.equal(
      (
        await esme.request({
          command: 'replace_sm',
          message_id: r.message_id,
          source_addr: 'ACME',
          short_message: Buffer.from('new text'),
          registered_delivery: 1,
        })
      ).command_status,
      0,
    );
    assert.equal((await esme.request({ command: 'replace_sm', message_id: 'ffffff', short_message: Buffer.from('x') })).command_status, 0x0c, 'unknown id');
    // Point the dead connector at the simulator: the daemon rebinds it and sends what waited.
    cli(db, 'connector', 'set', 'dead', '--port', String(sim.port));
    await sim.until(() => submits.some((e) => e.key.endsWith('new text')), 15_000, 'replaced text at the carrier');
    assert.ok(!submits.some((e) => e.key.endsWith('old text')), 'the old text never left');
    assert.ok(!submits.some((e) => e.key.endsWith('cancel me')), 'the cancelled message never left');
  });
});

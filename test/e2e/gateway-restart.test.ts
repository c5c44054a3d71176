// Restarts end to end: work the gateway accepted survives SIGTERM and goes out from a new process
// on the same SQLite file; SIGTERM unbinds the ESMEs and exits 0 within the shutdown deadline.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { parseReceipt, statOf } from '../../src/dlr/receipt.js';
import { SmscSimulator } from '../../src/sim/smsc.js';
import { SmppClient } from '../../src/smpp/client.js';
import type { Pdu, PduOf } from '../../src/smpp/pdu.js';
import { Session } from '../../src/smpp/session.js';
import type { BindCommand } from '../../src/smpp/states.js';
import { cli, startGateway, tempDir, type GatewayProcess } from '../helpers/gateway-process.js';
import { freePort, waitFor } from '../helpers/wait.js';

const ESME = { systemId: 'acme', password: 'acme123' };
const ENV = { SMPPGW_SMSC__RETRYBASEMS: '50', SMPPGW_SMSC__RETRYMAXMS: '200' };
const COUNT = 100;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** An ESME of `acme` that keeps every deliver_sm it is given (answered OK). */
function esme(port: number, command: BindCommand): { client: SmppClient; received: Array<PduOf<'deliver_sm'>> } {
  const received: Array<PduOf<'deliver_sm'>> = [];
  const client = new SmppClient({
    host: '127.0.0.1',
    port,
    bind: { command, system_id: ESME.systemId, password: ESME.password },
    session: { enquireLinkMs: 0 },
    handlers: {
      request: (pdu: Pdu) => {
        if (pdu.command === 'deliver_sm') received.push(pdu);
        return {};
      },
    },
  });
  client.start();
  return { client, received };
}

function query<T>(db: string, sql: string): T[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).all() as T[];
  } finally {
    d.close();
  }
}

const states = (db: string) => query<{ state: number; n: number }>(db, 'SELECT state, COUNT(*) AS n FROM messages GROUP BY state ORDER BY state');
const outbox = (db: string) => query<{ kind: string; n: number }>(db, 'SELECT kind, COUNT(*) AS n FROM outbox GROUP BY kind');

test('queued messages resume after a restart: accepted while the carrier is away, sent by the next process, receipts kept for the ESME', async () => {
  const tmp = tempDir();
  const db = `${tmp.dir}/gw.db`;
  const carrierPort = await freePort();
  cli(db, 'init');
  cli(db, 'account', 'add', ESME.systemId, '--password', ESME.password, '--window', '100');
  cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(carrierPort), '--system-id', 'gw', '--password', 'pw', '--window', '50');
  cli(db, 'route', 'add', 'mt', '--connector', 'sim');
  let gw: GatewayProcess | undefined;
  let sim: SmscSimulator | undefined;
  let receiver: ReturnType<typeof esme> | undefined;
  try {
    // 1. The carrier is not there: the gateway accepts (commits, answers ESME_ROK) and holds.
    gw = await startGateway(db, [], ENV);
    const sender = esme(gw.smppPort, 'bind_transmitter');
    const ids: string[] = [];
    try {
      const session = await withTimeout(sender.client.whenBound(), 5_000, 'sender bound');
      const resps = await Promise.all(
        Array.from({ length: COUNT }, (_, i) =>
          session.request({
            command: 'submit_sm',
            source_addr_ton: 5,
            source_addr_npi: 0,
            source_addr: 'SHOP',
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: String(4917000000 + i),
            registered_delivery: 1,
            data_coding: 0,
            short_message: Buffer.from(`restart ${i + 1}`),
          }),
        ),
      );
      for (const r of resps) {
        assert.equal(r.command_status, 0);
        ids.push(r.message_id);
      }
    } finally {
      await sender.client.close(2_000);
    }
    assert.equal(new Set(ids).size, COUNT, 'a distinct id each');
    assert.deepEqual(states(db), [{ state: 0, n: COUNT }], 'all committed, all queued');
    const before = (await gw.status()) as { connectors: Record<string, { up: boolean; queued: number }> };
    assert.deepEqual([before.connectors.sim?.up, before.connectors.sim?.queued], [false, COUNT]);
    assert.equal(await gw.stop(), 0, 'first gateway exits 0 on SIGTERM');
    assert.deepEqual(states(db), [{ state: 0, n: COUNT }], 'still queued after the shutdown');

    // 2. The carrier is back and a new process starts on the same file; no ESME is bound yet.
    sim = new SmscSimulator({ port: carrierPort, dlrDelayMs: 0 });
    await sim.start();
    gw = await startGateway(db, [], ENV);
    const resumed = await gw.waitLog((l) => l.msg === 'resumed queued work');
    assert.deepEqual([resumed.messages, resumed.outbox], [COUNT, 0]);
    const s = sim;
    await sim.until(() => s.stats.submitsOk === COUNT && s.stats.receiptsAcked === COUNT, 10_000, 'every message sent and its receipt taken');
    assert.equal(sim.stats.duplicates, 0, 'none sent twice');
    assert.equal(sim.stats.submits, COUNT);
    // The receipts wait for the ESME: committed before the carrier got its deliver_sm_resp.
    assert.deepEqual(outbox(db), [{ kind: 'dlr', n: COUNT }]);
    assert.deepEqual((await gw.status()).outbox, { acme: COUNT });

    // 3. The ESME binds to the new process and gets every receipt, with the ids it was given.
    receiver = esme(gw.smppPort, 'bind_receiver');
    await waitFor(() => receiver!.received.length >= COUNT, 'receipts delivered', 10_000);
    const receipts = receiver.received.map((pdu) => parseReceipt(pdu));
    assert.ok(
      receipts.every((r) => r !== undefined),
      'every deliver_sm is a receipt',
    );
    assert.deepEqual(receipts.map((r) => r!.id).sort(), [...ids].sort(), 'one receipt per message, under the id from submit_sm_resp');
    assert.deepEqual([...new Set(receipts.map((r) => statOf(r!.state)))], ['DELIVRD']);
    await waitFor(() => outbox(db).length === 0, 'outbox emptied');
    assert.deepEqual(states(db), [{ state: 2, n: COUNT }], 'all delivered');
    assert.equal(receiver.received.length, COUNT, 'no receipt twice');
  } finally {
    await receiver?.client.close(2_000);
    if (gw) assert.equal(await gw.stop(), 0, 'gateway exits 0 on SIGTERM');
    await sim?.stop();
    tmp.cleanup();
  }
});

test('SIGTERM while an ESME is bound: the ESME is unbound, the gateway exits 0 within the shutdown deadline', async () => {
  const tmp = tempDir();
  const db = `${tmp.dir}/gw.db`;
  const sim = new SmscSimulator({ dlrDelayMs: 0 });
  await sim.start();
  cli(db, 'init');
  cli(db, 'account', 'add', ESME.systemId, '--password', ESME.password);
  cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(sim.port), '--system-id', 'gw', '--password', 'pw');
  cli(db, 'route', 'add', 'mt', '--connector', 'sim');
  const deadlineMs = 3_000;
  const gw = await startGateway(db, [], { ...ENV, SMPPGW_SHUTDOWN__DEADLINEMS: String(deadlineMs) });
  try {
    await sim.until(() => sim.summary().activeBinds === 1, 10_000, 'connector bound');
    // A plain session (no reconnecting client): what it sees is what the gateway did.
    const socket = net.connect({ host: '127.0.0.1', port: gw.smppPort });
    const connected = new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    let closeReason = '';
    const session = new Session(socket, { role: 'esme', enquireLinkMs: 0, handlers: { close: (_s, reason) => (closeReason = reason) } });
    await withTimeout(connected, 5_000, 'connected');
    await withTimeout(session.bind('bind_transceiver', { system_id: ESME.systemId, password: ESME.password }), 5_000, 'bound');
    // It works before the shutdown.
    const resp = await session.request({
      command: 'submit_sm',
      source_addr: 'SHOP',
      destination_addr: '4917000000',
      registered_delivery: 0,
      short_message: Buffer.from('before SIGTERM'),
    });
    assert.equal(resp.command_status, 0);
    await sim.until(() => sim.stats.submitsOk === 1, 5_000, 'message sent');

    const started = Date.now();
    const code = await gw.stop();
    const took = Date.now() - started;
    assert.equal(code, 0, 'exit code 0');
    assert.ok(took < deadlineMs, `exited in ${took} ms, within the ${deadlineMs} ms deadline`);
    await withTimeout(session.whenClosed(), 5_000, 'ESME session closed');
    // 'peer unbound' is set only by an unbind received; a bare close reads 'peer closed the connection'.
    assert.equal(closeReason, 'peer unbound', 'the gateway unbound it (not just a dropped connection)');
    // Every log line read (the exit can come before the last of stdout): it stopped in order.
    const stdout = gw.child.stdout!;
    if (!stdout.readableEnded) await withTimeout(once(stdout, 'end'), 5_000, 'gateway stdout ended');
    assert.equal(gw.logs.at(-1)?.msg, 'smppgw stopped');
    // The carrier side was unbound in order too.
    await sim.until(() => sim.summary().activeBinds === 0, 5_000, 'connector unbound at the carrier');
  } finally {
    await gw.stop();
    await sim.stop();
    tmp.cleanup();
  }
});

// Fails today: src/gateway.ts stop() gives the ESME listeners the whole deadline and then the
// carrier links the whole deadline again, and a session whose peer does not close after our FIN
// waits 2 s more on each side (src/smpp/session.ts endSocket): here about 2 × (1 s + 2 s).
test('SIGTERM with an ESME and a carrier that do not answer: the gateway still exits 0 within the shutdown deadline', async () => {
  const tmp = tempDir();
  const db = `${tmp.dir}/gw.db`;
  // The carrier takes submits and never answers them.
  const sim = new SmscSimulator({ dlrDelayMs: 0, dropRate: 1 });
  await sim.start();
  cli(db, 'init');
  cli(db, 'account', 'add', ESME.systemId, '--password', ESME.password);
  cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(sim.port), '--system-id', 'gw', '--password', 'pw');
  cli(db, 'route', 'add', 'mt', '--connector', 'sim');
  cli(db, 'route', 'add', 'mo', '--account', ESME.systemId);
  const deadlineMs = 1_000;
  const gw = await startGateway(db, [], { ...ENV, SMPPGW_SHUTDOWN__DEADLINEMS: String(deadlineMs) });
  const socket = net.connect({ host: '127.0.0.1', port: gw.smppPort });
  const connected = new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  // The ESME never answers a deliver_sm (and so does not finish closing while one is open).
  let held = 0;
  const session = new Session(socket, {
    role: 'esme',
    enquireLinkMs: 0,
    responseTimeoutMs: 30_000,
    handlers: { request: () => (held++, new Promise<never>(() => undefined)) },
  });
  try {
    await withTimeout(connected, 5_000, 'connected');
    await withTimeout(session.bind('bind_transceiver', { system_id: ESME.systemId, password: ESME.password }), 5_000, 'bound');
    await sim.until(() => sim.summary().activeBinds === 1, 10_000, 'connector bound');
    const resp = await session.request({
      command: 'submit_sm',
      source_addr: 'SHOP',
      destination_addr: '4917000000',
      short_message: Buffer.from('never answered'),
    });
    assert.equal(resp.command_status, 0);
    await sim.until(() => sim.stats.submitsDropped === 1, 5_000, 'the submit is in flight at the carrier');
    assert.equal(await sim.sendMo({ from: '4917000001', to: '12345', text: 'hello' }), 0);
    await waitFor(() => held === 1, 'the deliver_sm is held by the ESME');

    const started = Date.now();
    const code = await gw.stop();
    const took = Date.now() - started;
    assert.equal(code, 0);
    assert.ok(took < deadlineMs + 500, `exited in ${took} ms; the deadline is ${deadlineMs} ms`);
  } finally {
    session.destroy('test over');
    await gw.stop();
    await sim.stop();
    tmp.cleanup();
  }
});

// Misbehaving accounts at the gateway (child process, SQLite on disk): a receiver that never reads
// its socket, a connection that never binds, more connections than the gateway takes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { parseReceipt } from '../../src/dlr/receipt.js';
import { SmscSimulator } from '../../src/sim/smsc.js';
import { SmppClient } from '../../src/smpp/client.js';
import { encode } from '../../src/smpp/codec.js';
import type { Session } from '../../src/smpp/session.js';
import { readDb } from '../helpers/db-read.js';
import { cli, startGateway, tempDir } from '../helpers/gateway-process.js';
import { submitMany } from '../helpers/submit-many.js';
import { waitFor } from '../helpers/wait.js';

const N = 12_000;

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const outboxRows = (db: string) => readDb(db, (d) => d.prepare('SELECT COUNT(*) FROM outbox').pluck().get() as number);

/** Binds as a transmitter and sends `n` submit_sm asking for receipts, 50 in flight. */
async function sendWithReceipts(port: number, n: number): Promise<Set<string>> {
  let session: Session | undefined;
  const client = new SmppClient({
    host: '127.0.0.1',
    port,
    bind: { command: 'bind_transmitter', system_id: 'acme', password: 'acme123' },
    onBound: (s) => (session = s),
  });
  client.start();
  await waitFor(() => session !== undefined, 'transmitter bound');
  const ids = new Set(await submitMany(session!, n, 'm', 50));
  await client.close(2_000);
  return ids;
}

test('a receiver that never reads: its receipts wait in the outbox with memory bounded, and all reach the next receiver', async (t) => {
  const tmp = tempDir();
  const sim = new SmscSimulator({ dlrDelayMs: 0 });
  const { port } = await sim.start();
  const db = `${tmp.dir}/gw.db`;
  cli(db, 'init');
  cli(db, 'account', 'add', 'acme', '--password', 'acme123', '--window', '100');
  cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(port), '--system-id', 'gw', '--password', 'pw', '--window', '50');
  cli(db, 'route', 'add', 'mt', '--connector', 'sim');
  const gw = await startGateway(db, [], { SMPPGW_SMPP__SESSION__RESPONSETIMEOUTMS: '500' });
  const stuck = net.connect({ host: '127.0.0.1', port: gw.smppPort });
  try {
    // The stuck receiver: binds, then never reads a byte (not even its bind_resp).
    await new Promise<void>((resolve) => stuck.once('connect', () => resolve()));
    stuck.pause();
    stuck.write(encode({ command: 'bind_receiver', sequence_number: 1, system_id: 'acme', password: 'acme123' }));
    await gw.waitLog((l) => l.msg === 'ESME bound' && l.bind === 'rx');
    const rssBefore = rssMb(gw.child.pid!);

    const ids = await sendWithReceipts(gw.smppPort, N);
    assert.equal(ids.size, N);
    // Every carrier receipt was committed (deliver_sm_resp goes out only after the commit).
    await sim.until(() => sim.summary().receiptsAcked === N, 60_000, 'all receipts taken by the gateway');
    const status = (await gw.status()) as { outbox: Record<string, number>; outboxInMemory: number };
    const rssAfter = rssMb(gw.child.pid!);
    t.diagnostic(
      `${N} receipts for a receiver that never reads: in the table ${outboxRows(db)}, in memory ${status.outboxInMemory}; gateway RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB`,
    );
    assert.equal(outboxRows(db), N, 'every receipt waits in the outbox table');
    const waiting = status.outbox.acme ?? 0;
    assert.ok(waiting >= N - 10 && waiting <= N, `status counts them (less the stuck receiver's window): ${waiting}`);
    assert.ok(status.outboxInMemory <= 1_000, `memory holds a page, not the backlog: ${status.outboxInMemory}`);

    // The stuck receiver goes; a working one binds and gets every receipt, once.
    stuck.destroy();
    const got = new Map<string, number>();
    const receiver = new SmppClient({
      host: '127.0.0.1',
      port: gw.smppPort,
      bind: { command: 'bind_receiver', system_id: 'acme', password: 'acme123' },
      session: { window: 100 },
      handlers: {
        request: (pdu) => {
          if (pdu.command === 'deliver_sm') {
            const r = parseReceipt(pdu);
            if (r) got.set(r.id, (got.get(r.id) ?? 0) + 1);
          }
          return {};
        },
      },
    });
    receiver.start();
    try {
      await waitFor(() => got.size === N, `all ${N} receipts delivered`, 60_000);
      await waitFor(() => outboxRows(db) === 0, 'outbox emptied', 10_000);
      for (const id of ids) assert.ok(got.has(id.toLowerCase()) || got.has(id), `receipt for ${id}`);
      const extra = [...got.values()].reduce((a, b) => a + b, 0) - N;
      t.diagnostic(`delivered ${got.size} distinct receipts, ${extra} repeated (sent to the stuck receiver before it went)`);
      assert.ok(extra <= 10, "at most the stuck receiver's window is repeated");
    } finally {
      await receiver.close(2_000);
    }
  } finally {
    stuck.destroy();
    assert.equal(await gw.stop(), 0);
    await sim.stop();
    tmp.cleanup();
  }
});

test('a connection that never binds is closed after the bind timeout; past smpp.maxConnections new ones are closed at once', async () => {
  const tmp = tempDir();
  const db = `${tmp.dir}/gw.db`;
  cli(db, 'init');
  cli(db, 'account', 'add', 'acme', '--password', 'acme123');
  const gw = await startGateway(db, [], { SMPPGW_SMPP__SESSION__BINDTIMEOUTMS: '300', SMPPGW_SMPP__MAXCONNECTIONS: '2' });
  const sockets: net.Socket[] = [];
  const connect = () => {
    const s = net.connect({ host: '127.0.0.1', port: gw.smppPort });
    sockets.push(s);
    return { s, closed: new Promise<void>((resolve) => s.once('close', () => resolve())) };
  };
  try {
    const idle = connect();
    await idle.closed; // never bound: the gateway closes it
    await gw.waitLog((l) => l.msg === 'no bind within the bind timeout; closing');

    const a = connect();
    const b = connect();
    await Promise.all([a, b].map(({ s }) => new Promise<void>((resolve) => s.once('connect', () => resolve()))));
    const third = connect();
    await third.closed;
    await gw.waitLog((l) => l.msg === 'too many connections; closed');
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    assert.match(metrics, /smppgw_connections_refused_total\{reason="total"\} 1/);
  } finally {
    for (const s of sockets) s.destroy();
    assert.equal(await gw.stop(), 0);
    tmp.cleanup();
  }
});

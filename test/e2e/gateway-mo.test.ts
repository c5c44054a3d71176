// MO end to end through real processes: the SMSC simulator (the carrier, bound to by the gateway's
// connector as a transceiver) sends deliver_sm to one shared short code; the gateway (child
// process, SQLite on disk) routes them by keyword to the accounts' bound ESMEs, keeps them in the
// outbox for an account that is not bound, and refuses those no MO route matches.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SmscSimulator } from '../../src/sim/smsc.js';
import { SmppClient } from '../../src/smpp/client.js';
import { TLVS } from '../../src/smpp/defs.js';
import type { Pdu, PduOf, Tlv } from '../../src/smpp/pdu.js';
import type { BindCommand } from '../../src/smpp/states.js';
import { cli, startGateway, tempDir, type GatewayProcess } from '../helpers/gateway-process.js';
import { waitFor } from '../helpers/wait.js';

const A1 = { systemId: 'a1', password: 'pw1' };
const A2 = { systemId: 'a2', password: 'pw2' };
const SHORT_CODE = '12345';
const ESME_RINVDSTADR = 0x0b;

/** TLVs a carrier may put on an MO: one the tables know, and a vendor one (passed on as octets). */
const MO_TLVS: Tlv[] = [
  { tag: TLVS.get('user_message_reference')!.tag, value: Buffer.from([0x01, 0x02]) },
  { tag: 0x1403, value: Buffer.from('carrier-ref-77', 'latin1') },
];

/** An account's ESME: binds to the gateway and keeps every deliver_sm it is given (answered OK). */
class Esme {
  readonly received: Array<PduOf<'deliver_sm'>> = [];
  private readonly client: SmppClient;
  private readonly waiters = new Set<() => void>();

  constructor(port: number, account: { systemId: string; password: string }, command: BindCommand) {
    this.client = new SmppClient({
      host: '127.0.0.1',
      port,
      bind: { command, system_id: account.systemId, password: account.password },
      session: { enquireLinkMs: 0 },
      handlers: {
        request: (pdu: Pdu) => {
          if (pdu.command === 'deliver_sm') this.received.push(pdu);
          for (const w of [...this.waiters]) w();
          return {};
        },
      },
    });
    this.client.start();
  }

  async bound(ms = 5_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.client.whenBound(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`ESME not bound within ${ms} ms`)), ms))),
    ]).finally(() => clearTimeout(timer));
  }

  /** Resolves once `n` deliver_sm have arrived; rejects after `ms`. */
  waitCount(n: number, ms = 5_000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.received.length < n) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`ESME got ${this.received.length} deliver_sm, not ${n}, within ${ms} ms`));
      }, ms);
      this.waiters.add(check);
    });
  }

  close(): Promise<void> {
    return this.client.close(2_000);
  }
}

async function withGateway(body: (gw: GatewayProcess, sim: SmscSimulator, db: string) => Promise<void>): Promise<void> {
  const tmp = tempDir();
  const sim = new SmscSimulator({ dlrDelayMs: 0, retryDelayMs: 100 });
  const { port } = await sim.start();
  const db = `${tmp.dir}/gw.db`;
  cli(db, 'init');
  for (const a of [A1, A2]) cli(db, 'account', 'add', a.systemId, '--password', a.password);
  cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(port), '--system-id', 'gw', '--password', 'pw', '--bind', 'trx');
  // One short code shared by keyword; the route stores the keyword upper case and matches any case.
  cli(db, 'route', 'add', 'mo', '--account', A1.systemId, '--short-code', SHORT_CODE, '--keyword', 'VOTE');
  cli(db, 'route', 'add', 'mo', '--account', A2.systemId, '--short-code', SHORT_CODE, '--keyword', 'info');
  const gw = await startGateway(db);
  try {
    // The gateway's connector is bound to the carrier as a transceiver: MOs have somewhere to go.
    await sim.until(() => sim.summary().activeBinds === 1, 10_000, 'gateway connector bound');
    await body(gw, sim, db);
  } finally {
    assert.equal(await gw.stop(), 0, 'gateway exits 0 on SIGTERM');
    await sim.stop();
    tmp.cleanup();
  }
}

function outboxRows(db: string): Array<{ account: string; kind: string }> {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare('SELECT a.system_id AS account, kind FROM outbox JOIN accounts a ON a.id = outbox.account_id ORDER BY outbox.id').all() as Array<{
      account: string;
      kind: string;
    }>;
  } finally {
    d.close();
  }
}

async function metric(gw: GatewayProcess, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

function text(pdu: PduOf<'deliver_sm'>): string {
  return pdu.short_message.toString('latin1');
}

test('MOs on one short code reach the account of their keyword (any case), unchanged, and the carrier counts them acked', async () => {
  await withGateway(async (gw, sim) => {
    const a1 = new Esme(gw.smppPort, A1, 'bind_receiver');
    const a2 = new Esme(gw.smppPort, A2, 'bind_transceiver');
    try {
      await Promise.all([a1.bound(), a2.bound()]);
      const vote = { from: '4917000001', to: SHORT_CODE, text: 'vote A', tlvs: MO_TLVS };
      const info = { from: '4917000002', to: SHORT_CODE, text: 'Info please', tlvs: MO_TLVS };
      assert.equal(await sim.sendMo(vote), 0, 'the carrier gets ESME_ROK for a routed MO');
      assert.equal(await sim.sendMo(info), 0);
      await Promise.all([a1.waitCount(1), a2.waitCount(1)]);
      for (const [esme, mo] of [
        [a1, vote],
        [a2, info],
      ] as const) {
        assert.equal(esme.received.length, 1);
        const got = esme.received[0]!;
        assert.equal(got.esm_class, 0, 'an MO, not a receipt');
        assert.equal(got.source_addr, mo.from);
        assert.deepEqual([got.source_addr_ton, got.source_addr_npi], [1, 1]);
        assert.equal(got.destination_addr, mo.to);
        assert.deepEqual([got.dest_addr_ton, got.dest_addr_npi], [3, 0]);
        assert.equal(got.data_coding, 0);
        assert.equal(text(got), mo.text);
        assert.deepEqual(got.tlvs, MO_TLVS, "the carrier's TLVs are passed on");
      }
      assert.equal(sim.stats.mosAcked, 2);
      assert.equal(sim.stats.mosRefused, 0);
      assert.equal(await metric(gw, 'smppgw_mo_total{result="routed"}'), 2);
      // Delivered: nothing left in the outbox (the removal is committed after the ESME's response).
      await waitFor(async () => JSON.stringify((await gw.status()).outbox) === '{}', 'outbox empty');
      // A third one for each, in the other case, still goes to the right account only.
      assert.equal(await sim.sendMo({ ...vote, text: 'VOTE b' }), 0);
      assert.equal(await sim.sendMo({ ...info, text: 'info' }), 0);
      await Promise.all([a1.waitCount(2), a2.waitCount(2)]);
      assert.deepEqual(a1.received.map(text), ['vote A', 'VOTE b']);
      assert.deepEqual(a2.received.map(text), ['Info please', 'info']);
    } finally {
      await Promise.all([a1.close(), a2.close()]);
    }
  });
});

test('an MO no route matches is refused to the carrier and counted unrouted', async () => {
  await withGateway(async (gw, sim) => {
    const a1 = new Esme(gw.smppPort, A1, 'bind_transceiver');
    const a2 = new Esme(gw.smppPort, A2, 'bind_receiver');
    try {
      await Promise.all([a1.bound(), a2.bound()]);
      // Right short code, unknown keyword; known keyword, another short code; an empty text.
      assert.equal(await sim.sendMo({ from: '4917000003', to: SHORT_CODE, text: 'HELP me' }), ESME_RINVDSTADR);
      assert.equal(await sim.sendMo({ from: '4917000004', to: '54321', text: 'VOTE A' }), ESME_RINVDSTADR);
      assert.equal(await sim.sendMo({ from: '4917000005', to: SHORT_CODE, text: '' }), ESME_RINVDSTADR);
      assert.equal(sim.stats.mosRefused, 3, 'the simulator saw a non-zero status for each');
      assert.equal(sim.stats.mosAcked, 0);
      assert.equal(await metric(gw, 'smppgw_mo_total{result="unrouted"}'), 3);
      assert.equal(await metric(gw, 'smppgw_mo_total{result="routed"}'), 0);
      assert.deepEqual(outboxRows(gw.db), [], 'nothing refused was stored');
      // A routed MO after them reaches its account, and it is the only deliver_sm either ESME got.
      assert.equal(await sim.sendMo({ from: '4917000006', to: SHORT_CODE, text: 'VOTE C' }), 0);
      await a1.waitCount(1);
      assert.deepEqual(a1.received.map(text), ['VOTE C']);
      assert.equal(a2.received.length, 0);
      await waitFor(() => outboxRows(gw.db).length === 0, "the routed MO's outbox row removed once delivered");
    } finally {
      await Promise.all([a1.close(), a2.close()]);
    }
  });
});

test("an MO for an account that is not bound is committed before the carrier's deliver_sm_resp, waits in the outbox, and is delivered when it binds", async () => {
  await withGateway(async (gw, sim, db) => {
    const a1 = new Esme(gw.smppPort, A1, 'bind_receiver');
    let a2: Esme | undefined;
    try {
      await a1.bound();
      const mo = { from: '4917000007', to: SHORT_CODE, text: 'INFO opening hours', tlvs: MO_TLVS };
      assert.equal(await sim.sendMo(mo), 0, 'accepted although a2 is not bound');
      // The carrier got its deliver_sm_resp: the MO is committed (another connection sees it).
      assert.deepEqual(outboxRows(db), [{ account: 'a2', kind: 'mo' }]);
      assert.deepEqual((await gw.status()).outbox, { a2: 1 });
      assert.equal(sim.stats.mosAcked, 1);
      assert.equal(a1.received.length, 0, 'not given to another account');

      a2 = new Esme(gw.smppPort, A2, 'bind_receiver');
      await a2.waitCount(1);
      const got = a2.received[0]!;
      assert.deepEqual([got.source_addr, got.destination_addr, text(got)], [mo.from, mo.to, mo.text]);
      assert.deepEqual(got.tlvs, MO_TLVS);
      await waitFor(() => outboxRows(db).length === 0, 'outbox row removed after delivery');
      assert.deepEqual((await gw.status()).outbox, {});
      assert.equal(a2.received.length, 1, 'delivered once');
      assert.equal(a1.received.length, 0);
    } finally {
      await Promise.all([a1.close(), a2?.close()]);
    }
  });
});

// TLS through the whole gateway, with certificates made by the openssl CLI for this run
// (test/helpers/tls.ts): the gateway runs as a child process with its SMPP-over-TLS listener on,
// ESMEs bind to it over TLS (verifying its certificate, and presenting their own when it asks
// for one), and its connector reaches the in-process SMSC simulator over TLS, verifying the
// simulator's certificate against smsc.tlsCa. A certificate the far end cannot verify means no
// bind, on either side; messages accepted meanwhile stay queued and go out once it can.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type tls from 'node:tls';
import { systemClock, type Clock } from '../../src/clock.js';
import { foldId } from '../../src/dlr/ids.js';
import { MessageState } from '../../src/smpp/message-state.js';
import { parseReceipt, statOf } from '../../src/dlr/receipt.js';
import { SmscSimulator } from '../../src/sim/smsc.js';
import { SmppClient, type ClientTlsOptions } from '../../src/smpp/client.js';
import type { Pdu } from '../../src/smpp/pdu.js';
import type { Session } from '../../src/smpp/session.js';
import { ManualClock } from '../helpers/clock.js';
import { messageStates } from '../helpers/db-read.js';
import { cli, startGateway, tempDir, type GatewayProcess } from '../helpers/gateway-process.js';
import { guard, submit } from '../helpers/peer.js';
import { testPki, writeTestPki, type TestPkiFiles } from '../helpers/tls.js';
import { waitFor } from '../helpers/wait.js';

const pki = testPki();
const ESME = { system_id: 'acme', password: 'acme123' };

type Ctx = { after(fn: () => unknown): void };

/** An account, a TLS connector to `smscPort` and an MT route to it, in a fresh database. */
function provision(dir: string, smscPort: number): string {
  const db = `${dir}/gw.db`;
  cli(db, 'init');
  cli(db, 'account', 'add', ESME.system_id, '--password', ESME.password, '--window', '100', '--tps', '0');
  cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(smscPort), '--system-id', 'gw', '--password', 'pw', '--window', '50', '--tls');
  cli(db, 'route', 'add', 'mt', '--connector', 'sim');
  return db;
}

/** The gateway's environment: the TLS listener on a free port, and what the connector trusts. */
function gatewayEnv(files: TestPkiFiles, o: { requestCert?: boolean; smscCa?: string; smscClientCert?: boolean } = {}): NodeJS.ProcessEnv {
  return {
    SMPPGW_SMPP__TLS__ENABLED: 'true',
    SMPPGW_SMPP__TLS__PORT: '0',
    SMPPGW_SMPP__TLS__CERT: files.serverCert,
    SMPPGW_SMPP__TLS__KEY: files.serverKey,
    SMPPGW_SMPP__TLS__CA: files.ca,
    SMPPGW_SMPP__TLS__REQUESTCERT: String(o.requestCert ?? false),
    SMPPGW_SMSC__TLSCA: o.smscCa ?? '',
    SMPPGW_SMSC__TLSCERT: o.smscClientCert ? files.clientCert : '',
    SMPPGW_SMSC__TLSKEY: o.smscClientCert ? files.clientKey : '',
    SMPPGW_SMSC__RETRYBASEMS: '50',
    SMPPGW_SMSC__RETRYMAXMS: '200',
  };
}

async function tlsPort(gw: GatewayProcess): Promise<number> {
  const port = (await gw.waitLog((l) => l.msg === 'smppgw ready')).smppTls;
  assert.equal(typeof port, 'number', 'the ready line names the TLS port');
  return port as number;
}

const esmeBinds = (gw: GatewayProcess) => gw.logs.filter((l) => l.msg === 'ESME bound').length;
const tlsFailures = (gw: GatewayProcess) => gw.logs.filter((l) => l.msg === 'TLS handshake failed' && l.listener === 'smpp-tls');

/**
 * An ESME bound as a transceiver (over TLS when `tls` is given), collecting the receipts it is
 * sent. With a ManualClock it never retries: a refused connection is exactly one attempt.
 */
function esme(t: Ctx, port: number, tlsOptions: ClientTlsOptions | undefined, clock: Clock = systemClock) {
  const receipts: string[] = [];
  const stats: Record<string, number> = {};
  let bound = 0;
  let firstClose: ((reason: string) => void) | undefined;
  const closed = new Promise<string>((resolve) => (firstClose = resolve));
  const client = new SmppClient({
    host: '127.0.0.1',
    port,
    ...(tlsOptions ? { tls: tlsOptions } : {}),
    bind: { command: 'bind_transceiver', ...ESME },
    clock,
    session: { enquireLinkMs: 0, window: 50 },
    backoff: { initialMs: 50, maxMs: 200 },
    handlers: {
      request: (pdu: Pdu) => {
        if (pdu.command !== 'deliver_sm') return;
        const r = parseReceipt(pdu);
        if (r === undefined) return;
        receipts.push(foldId(r.id));
        const stat = statOf(r.state);
        stats[stat] = (stats[stat] ?? 0) + 1;
      },
      state: (s: Session, state) => state === 'closed' && firstClose?.(s.closeReason),
    },
    onBound: () => void bound++,
  });
  t.after(() => client.close(1_000));
  client.start();
  return { client, receipts, stats, closed, bound: () => bound };
}

/** Sends `n` submit_sm asking for receipts; resolves with the gateway's ids of those acked OK. */
async function sendMt(session: Session, n: number, tag: string): Promise<{ ids: string[]; statuses: number[] }> {
  const resps = await guard(
    Promise.all(Array.from({ length: n }, (_, i) => session.request({ ...submit(`${tag} ${i}`), registered_delivery: 1 }))),
    `${n} submit_sm_resp`,
    20_000,
  );
  return { ids: resps.filter((r) => r.command_status === 0).map((r) => foldId(r.message_id)), statuses: resps.map((r) => r.command_status) };
}

/** Every acked id has exactly one receipt, DELIVRD, and no receipt names another id. */
async function assertReceipts(e: ReturnType<typeof esme>, ids: string[]): Promise<void> {
  await waitFor(() => e.receipts.length >= ids.length, `${ids.length} receipts (have ${e.receipts.length})`, 20_000);
  assert.equal(e.receipts.length, ids.length, 'no receipt twice');
  assert.deepEqual([...e.receipts].sort(), [...ids].sort(), 'every receipt carries an id the gateway gave, one each');
  assert.deepEqual(e.stats, { DELIVRD: ids.length });
}

describe('gateway over TLS: ESMEs on the TLS listener, the connector to a TLS SMSC', () => {
  let tmp: ReturnType<typeof tempDir>;
  let files: TestPkiFiles;
  let sim: SmscSimulator;
  let gw: GatewayProcess;
  let port: number;

  before(async () => {
    tmp = tempDir();
    files = writeTestPki(tmp.dir);
    sim = new SmscSimulator({ dlrDelayMs: 0, tls: pki.server });
    await sim.start();
    const db = provision(tmp.dir, sim.port);
    gw = await startGateway(db, [], gatewayEnv(files, { smscCa: files.ca }));
    port = await tlsPort(gw);
    await gw.waitLog((l) => l.connector === 'sim' && l.msg === 'bound');
  });
  after(async () => {
    assert.equal(await gw?.stop(), 0, 'gateway exits 0 on SIGTERM');
    await sim?.stop();
    tmp?.cleanup();
  });

  test('300 MT with receipts, TLS on both legs: all acked, every receipt back with the gateway id', async (t) => {
    const e = esme(t, port, { ca: pki.ca });
    const session = await guard(e.client.whenBound(), 'ESME bind over TLS');
    const socket = session.socket as tls.TLSSocket;
    assert.equal(socket.encrypted, true);
    assert.equal(socket.authorized, true, `gateway certificate verified: ${String(socket.authorizationError)}`);
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(socket.getProtocol() ?? ''), `protocol ${socket.getProtocol()}`);
    assert.equal(socket.getPeerCertificate().subject?.CN, 'localhost');

    const { ids, statuses } = await sendMt(session, 300, 'tls');
    assert.equal(ids.length, 300, `statuses: ${JSON.stringify(statuses.filter((s) => s !== 0))}`);
    assert.equal(new Set(ids).size, 300, 'distinct gateway ids');
    await assertReceipts(e, ids);
    const s = sim.summary();
    assert.equal(s.submitsOk, 300, 'every message reached the simulator over its TLS listener');
    assert.equal(s.duplicates, 0);
    const status = await gw.status();
    assert.deepEqual(status.connectors.sim, { ...status.connectors.sim, up: true, queued: 0, inFlight: 0 });
    assert.deepEqual(status.outbox, {}, 'no receipt left waiting');
  });

  test('a client that does not trust the gateway CA refuses it: no bind, the gateway logs the failed handshake', async (t) => {
    // The previous test's ESME has unbound; wait until the gateway has let it go.
    await waitFor(async () => ((await gw.status()).binds[ESME.system_id] ?? []).length === 0, 'no ESME bound');
    const failuresBefore = tlsFailures(gw).length;
    const bindsBefore = esmeBinds(gw);
    for (const options of [{}, { ca: pki.otherCa }] as ClientTlsOptions[]) {
      const e = esme(t, port, options, new ManualClock());
      const reason = await guard(e.closed, 'the refused connection to close');
      assert.match(reason, /certificate/i, `client side: ${reason}`);
      assert.equal(e.bound(), 0);
    }
    // The client checks the certificate once the handshake is through and drops the connection:
    // the gateway sees a hang-up mid-handshake, never a session. Failed handshakes are logged at
    // most once per 10 s (the first at once, naming the peer; the rest as a count in the next line).
    await waitFor(() => tlsFailures(gw).length >= failuresBefore + 1, 'the failed handshake logged by the gateway');
    assert.match(String(tlsFailures(gw)[failuresBefore]!.remote), /^127\.0\.0\.1:\d+$/, 'the line names the peer');
    assert.equal(esmeBinds(gw), bindsBefore);
    const status = await gw.status();
    assert.deepEqual(status.binds[ESME.system_id] ?? [], [], 'no ESME bound');
  });
});

describe('gateway over TLS with requestCert: client certificates', () => {
  let tmp: ReturnType<typeof tempDir>;
  let sim: SmscSimulator;
  let gw: GatewayProcess;
  let port: number;

  before(async () => {
    tmp = tempDir();
    const files = writeTestPki(tmp.dir);
    sim = new SmscSimulator({ dlrDelayMs: 0, tls: pki.server });
    await sim.start();
    gw = await startGateway(provision(tmp.dir, sim.port), [], gatewayEnv(files, { requestCert: true, smscCa: files.ca }));
    port = await tlsPort(gw);
  });
  after(async () => {
    assert.equal(await gw?.stop(), 0, 'gateway exits 0 on SIGTERM');
    await sim?.stop();
    tmp?.cleanup();
  });

  test('a client without a certificate is refused before it can bind', async (t) => {
    const failuresBefore = tlsFailures(gw).length;
    const e = esme(t, port, { ca: pki.ca }, new ManualClock());
    // Under TLS 1.3 the client's side of the handshake completes before the gateway checks for a
    // certificate, so what the client sees first (the alert, or a reset of its bind) varies.
    const reason = await guard(e.closed, 'the connection without a certificate to close');
    assert.ok(reason.length > 0);
    assert.equal(e.bound(), 0);
    await waitFor(() => tlsFailures(gw).length > failuresBefore, 'the gateway logs the failed handshake');
    const failure = tlsFailures(gw)[failuresBefore]!;
    assert.match(String(failure.err), /certificate/i, JSON.stringify(failure));
    assert.equal(esmeBinds(gw), 0);
    const status = await gw.status();
    assert.deepEqual(status.binds[ESME.system_id] ?? [], [], 'no ESME bound');
  });

  test('a client with a certificate signed by the CA binds, and its MT and receipts go through', async (t) => {
    const e = esme(t, port, { ca: pki.ca, ...pki.client });
    const session = await guard(e.client.whenBound(), 'bind with a client certificate');
    assert.equal((session.socket as tls.TLSSocket).authorized, true);
    const { ids, statuses } = await sendMt(session, 20, 'mtls');
    assert.equal(ids.length, 20, `statuses: ${JSON.stringify(statuses)}`);
    await assertReceipts(e, ids);
    assert.equal(sim.summary().submitsOk, 20);
  });
});

test('connector: an SMSC certificate the gateway cannot verify means no bind, and messages wait queued until it can', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const files = writeTestPki(tmp.dir);
  // The simulator's certificate is signed by the test CA, which is in no system store.
  const sim = new SmscSimulator({ dlrDelayMs: 0, tls: pki.server });
  await sim.start();
  t.after(() => sim.stop());
  const db = provision(tmp.dir, sim.port);
  const bindFailures = (gw: GatewayProcess) => gw.logs.filter((l) => l.connector === 'sim' && l.msg === 'connection lost; reconnecting');
  let gw: GatewayProcess | undefined;
  t.after(() => gw?.kill());

  // 1. smsc.tlsCa unset (the system's CAs), then 2. smsc.tlsCa naming another CA: never bound.
  let ids: string[] = [];
  for (const smscCa of ['', files.otherCa]) {
    gw = await startGateway(db, [], gatewayEnv(files, { smscCa }));
    const g = gw;
    await waitFor(() => bindFailures(g).length >= 2, 'two refused TLS connections to the SMSC logged', 10_000);
    if (ids.length === 0) {
      // Accepted while the carrier cannot be reached: acknowledged, stored, queued.
      const e = esme(t, gw.smppPort, undefined);
      const session = await guard(e.client.whenBound(), 'plain ESME bind');
      const sent = await sendMt(session, 20, 'queued');
      ids = sent.ids;
      assert.equal(ids.length, 20, `statuses: ${JSON.stringify(sent.statuses)}`);
      const failuresSoFar = bindFailures(g).length;
      await waitFor(() => bindFailures(g).length > failuresSoFar, 'another refused attempt after the messages came in', 10_000);
      await e.client.close(1_000);
    } else {
      await gw.waitLog((l) => l.msg === 'resumed queued work' && l.messages === 20);
    }
    const status = await gw.status();
    assert.deepEqual(status.connectors.sim, { ...status.connectors.sim, up: false, queued: 20, inFlight: 0 }, `smsc.tlsCa '${smscCa}'`);
    // Every attempt ended in the TLS handshake, and the log line says why.
    for (const l of bindFailures(gw)) assert.equal(l.reason, 'socket error: unable to verify the first certificate', JSON.stringify(l));
    assert.equal(gw.logs.filter((l) => l.connector === 'sim' && l.msg === 'bound').length, 0, 'the connector never bound');
    assert.equal(await gw.stop(), 0);
    assert.deepEqual(messageStates(db), { 0: 20 }, 'all 20 still queued in the ledger');
  }
  const s = sim.summary();
  assert.deepEqual([s.binds, s.bindsRefused, s.submits], [0, 0, 0], 'nothing reached the simulator');

  // 3. smsc.tlsCa naming the CA that signed it: the connector binds, all 20 go out once, and the
  // receipts wait in the outbox until the account binds again.
  gw = await startGateway(db, [], gatewayEnv(files, { smscCa: files.ca }));
  await gw.waitLog((l) => l.connector === 'sim' && l.msg === 'bound');
  const e = esme(t, await tlsPort(gw), { ca: pki.ca });
  await guard(e.client.whenBound(), 'ESME bind over TLS after the restart');
  await assertReceipts(e, ids);
  assert.equal(sim.summary().submitsOk, 20);
  assert.equal(sim.summary().duplicates, 0, 'each message sent once');
  await waitFor(() => messageStates(db)[MessageState.DELIVERED] === 20, 'all 20 recorded DELIVRD in the ledger');
  assert.deepEqual(messageStates(db), { [MessageState.DELIVERED]: 20 });
  await e.client.close(1_000);
  assert.equal(await gw.stop(), 0);
});

test('connector: a carrier that asks for a client certificate gets smsc.tlsCert; without one the connector does not bind', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const files = writeTestPki(tmp.dir);
  const sim = new SmscSimulator({ dlrDelayMs: 0, tls: { ...pki.server, ca: pki.ca, requestCert: true, rejectUnauthorized: true } });
  await sim.start();
  t.after(() => sim.stop());
  const db = provision(tmp.dir, sim.port);
  let gw: GatewayProcess | undefined;
  t.after(() => gw?.kill());

  gw = await startGateway(db, [], gatewayEnv(files, { smscCa: files.ca }));
  const g = gw;
  await waitFor(
    () => g.logs.filter((l) => l.connector === 'sim' && l.msg === 'connection lost; reconnecting').length >= 2,
    'refused without a client certificate',
    10_000,
  );
  assert.equal(gw.logs.filter((l) => l.connector === 'sim' && l.msg === 'bound').length, 0);
  assert.equal(await gw.stop(), 0);

  gw = await startGateway(db, [], gatewayEnv(files, { smscCa: files.ca, smscClientCert: true }));
  await gw.waitLog((l) => l.connector === 'sim' && l.msg === 'bound');
  const e = esme(t, gw.smppPort, undefined);
  const session = await guard(e.client.whenBound(), 'plain ESME bind');
  const { ids } = await sendMt(session, 20, 'mtls');
  assert.equal(ids.length, 20);
  await assertReceipts(e, ids);
  assert.equal(sim.summary().submitsOk, 20, 'all 20 reached the carrier over mutual TLS');
  await e.client.close(1_000);
  assert.equal(await gw.stop(), 0);
});

// A carrier that binds and never answers a submit (issue 10, item 2), with the simulator's
// --never-answer mode and the gateway as a child process (response timeout shortened through the
// environment). What a response timeout means is the connector's --on-timeout:
//   reconnect (default): sent again at most smsc.maxResends times (then UNDELIV), and after
//     smsc.timeoutsBeforeRebind timeouts in a row the link is probed and bound again;
//   wait: never sent again; without a late answer the message stays sent without a carrier id.
// A route with another connector fails over to it at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SmscSimulator } from '../../src/sim/smsc.js';
import { readDb } from '../helpers/db-read.js';
import { receiptEsme } from '../helpers/gateway-carrier.js';
import { cli, startGateway, tempDir, type GatewayProcess } from '../helpers/gateway-process.js';
import { waitFor } from '../helpers/wait.js';

const ENV = { SMPPGW_SMPP__SESSION__RESPONSETIMEOUTMS: '300', SMPPGW_SMSC__RETRYBASEMS: '50', SMPPGW_SMSC__RETRYMAXMS: '200' };

async function carrier(t: { after(fn: () => unknown): void }, neverAnswer: boolean): Promise<SmscSimulator> {
  const sim = new SmscSimulator({ dlrDelayMs: 0, neverAnswer, retryDelayMs: 200, maxAttempts: 1_000 });
  await sim.start();
  t.after(() => sim.stop(500));
  return sim;
}

const states = (db: string) =>
  readDb(db, (d) => d.prepare('SELECT state, smsc_id_raw AS raw FROM messages ORDER BY id').all() as Array<{ state: number; raw: string | null }>);
const metric = async (gw: GatewayProcess, series: string) => {
  const text = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
};

function setup(t: { after(fn: () => unknown): void }) {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const db = `${dir}/gw.db`;
  cli(db, 'init');
  cli(db, 'account', 'add', 'acme', '--password', 'acme123');
  return db;
}

test('reconnect (default): each message is sent at most 1 + maxResends times, then UNDELIV; timeouts in a row rebind the link', async (t) => {
  const silent = await carrier(t, true);
  const db = setup(t);
  cli(db, 'connector', 'add', 'silent', '--host', '127.0.0.1', '--port', String(silent.port), '--system-id', 'gw', '--password', 'pw');
  cli(db, 'route', 'add', 'mt', '--connector', 'silent');
  const gw = await startGateway(db, [], ENV);
  t.after(() => gw.kill());
  await silent.until(() => silent.summary().activeBinds >= 1, 10_000, 'bound');
  const { receipts, submit } = await receiptEsme(t, gw);
  for (let i = 0; i < 3; i++) await submit(`m${i}`);

  await waitFor(() => states(db).every((m) => m.state === 5), 'all three UNDELIV', 30_000);
  await waitFor(() => receipts.filter((r) => r.includes('stat:UNDELIV')).length === 3, 'three UNDELIV receipts', 10_000);
  // 3 messages × (1 send + 2 resends), not × 10 attempts.
  assert.equal(silent.summary().submits, 9);
  assert.equal(await metric(gw, 'smppgw_carrier_resends_total{connector="silent"}'), 6);
  assert.ok((await metric(gw, 'smppgw_carrier_timeout_rebinds_total{connector="silent"}')) >= 1, 'rebound after timeouts in a row');
  assert.ok(silent.summary().binds >= 2, `bound again (${silent.summary().binds} binds)`);
});

test('a route with another connector fails over to it at once after a timeout', async (t) => {
  const silent = await carrier(t, true);
  const good = await carrier(t, false);
  const db = setup(t);
  cli(db, 'connector', 'add', 'silent', '--host', '127.0.0.1', '--port', String(silent.port), '--system-id', 'gw', '--password', 'pw');
  cli(db, 'connector', 'add', 'good', '--host', '127.0.0.1', '--port', String(good.port), '--system-id', 'gw', '--password', 'pw');
  cli(db, 'route', 'add', 'mt', '--connector', 'silent,good', '--kind', 'failover');
  const gw = await startGateway(db, [], ENV);
  t.after(() => gw.kill());
  await silent.until(() => silent.summary().activeBinds >= 1, 10_000, 'bound');
  await good.until(() => good.summary().activeBinds >= 1, 10_000, 'bound');
  const { receipts, submit } = await receiptEsme(t, gw);
  await submit('failover');
  await waitFor(() => receipts.some((r) => r.includes('stat:DELIVRD')), 'delivered through the other connector', 15_000);
  assert.equal(silent.summary().submits, 1);
  assert.equal(good.summary().submits, 1);
  assert.equal(await metric(gw, 'smppgw_carrier_resends_total{connector="silent"}'), 1);
});

test('--on-timeout wait: a message is never sent twice; without a late answer it stays sent without a carrier id', async (t) => {
  const silent = await carrier(t, true);
  const db = setup(t);
  cli(db, 'connector', 'add', 'silent', '--host', '127.0.0.1', '--port', String(silent.port), '--system-id', 'gw', '--password', 'pw', '--on-timeout', 'wait');
  assert.equal((JSON.parse(cli(db, 'connector', 'show', 'silent', '--json')) as Array<{ on_timeout: string }>)[0]!.on_timeout, 'wait');
  cli(db, 'route', 'add', 'mt', '--connector', 'silent');
  const gw = await startGateway(db, [], ENV);
  t.after(() => gw.kill());
  await silent.until(() => silent.summary().activeBinds >= 1, 10_000, 'bound');
  const { submit } = await receiptEsme(t, gw);
  for (let i = 0; i < 4; i++) await submit(`w${i}`);
  await waitFor(() => states(db).every((m) => m.state === 1), 'all kept as sent', 15_000);
  assert.ok(
    states(db).every((m) => m.raw === null),
    'without a carrier id',
  );
  assert.equal(silent.summary().submits, 4, 'each sent once');
  assert.equal(await metric(gw, 'smppgw_carrier_resends_total{connector="silent"}'), 0);
  assert.equal(await metric(gw, 'smppgw_carrier_timeout_rebinds_total{connector="silent"}'), 0);
  assert.equal(silent.summary().binds, 1);
});

test('--on-timeout requeue: sent again within the bound, but the link is never bound again', async (t) => {
  const silent = await carrier(t, true);
  const db = setup(t);
  cli(db, 'connector', 'add', 'silent', '--host', '127.0.0.1', '--port', String(silent.port), '--system-id', 'gw', '--password', 'pw');
  cli(db, 'connector', 'set', 'silent', '--on-timeout', 'requeue');
  cli(db, 'route', 'add', 'mt', '--connector', 'silent');
  const gw = await startGateway(db, [], ENV);
  t.after(() => gw.kill());
  await silent.until(() => silent.summary().activeBinds >= 1, 10_000, 'bound');
  const { submit } = await receiptEsme(t, gw);
  for (let i = 0; i < 3; i++) await submit(`r${i}`);
  await waitFor(() => states(db).every((m) => m.state === 5), 'all three UNDELIV', 30_000);
  assert.equal(silent.summary().submits, 9);
  assert.equal(await metric(gw, 'smppgw_carrier_timeout_rebinds_total{connector="silent"}'), 0);
  assert.equal(silent.summary().binds, 1);
});

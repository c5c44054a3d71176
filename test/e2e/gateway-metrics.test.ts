// What the operator endpoint tells, and to whom: a series per configured connector from the start
// (0 until bound, 0 when disabled, gone with the connector), an outbox series per live account (0
// when empty), no series left behind by a removed account; /status only with http.token.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { runLoad } from '../../src/sim/load.js';
import { ESME, carrierGatewayForTest } from '../helpers/gateway-carrier.js';
import { CLI, cli } from '../helpers/gateway-process.js';
import { waitFor } from '../helpers/wait.js';

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
}

test('connector and outbox series exist for everything configured, say 0 when down or empty, and leave with what they name', async (t) => {
  const { gw, db } = await carrierGatewayForTest(t);
  const port = gw.httpPort;
  const has = async (re: RegExp, what: string) => waitFor(async () => re.test(await scrape(port)), what, 10_000);

  // A connector that never binds (nothing listens on port 1) has a series, at 0.
  cli(db, 'connector', 'add', 'dead', '--host', '127.0.0.1', '--port', '1', '--system-id', 'gw', '--password', 'pw');
  await has(/^smppgw_connector_up\{connector="dead"\} 0$/m, 'dead at 0');
  assert.match(await scrape(port), /^smppgw_connector_up\{connector="sim"\} 1$/m);
  // Node's own metrics carry their stock names.
  assert.match(await scrape(port), /^process_cpu_user_seconds_total /m);
  assert.match(await scrape(port), /^nodejs_eventloop_lag_seconds /m);
  assert.doesNotMatch(await scrape(port), /^smppgw_(process|nodejs)_/m);
  // An account with nothing waiting still has its outbox series.
  assert.match(await scrape(port), new RegExp(`^smppgw_outbox_queue\\{account="${ESME.systemId}"\\} 0$`, 'm'));

  // Disabled: 0, not the last value seen.
  cli(db, 'connector', 'set', 'sim', '--disabled');
  await has(/^smppgw_connector_up\{connector="sim"\} 0$/m, 'sim at 0 once disabled');
  cli(db, 'connector', 'set', 'sim', '--enabled');
  await has(/^smppgw_connector_up\{connector="sim"\} 1$/m, 'sim at 1 again');

  // Removed: no series at all.
  cli(db, 'connector', 'remove', 'dead');
  await waitFor(async () => !/connector="dead"/.test(await scrape(port)), 'no series of the removed connector', 10_000);

  // A removed account leaves no series behind (it had submits, binds and receipts).
  cli(db, 'account', 'add', 'gone', '--password', 'pw');
  await waitFor(async () => /account="gone"/.test(await scrape(port)), 'the new account has a series', 10_000);
  const s = await runLoad({ port: gw.smppPort, systemId: 'gone', password: 'pw', count: 20, window: 10, dlr: true, timeoutMs: 10_000 });
  assert.equal(s.dlrsMatched, 20);
  assert.match(await scrape(port), /smppgw_esme_submits_total\{account="gone",status="ESME_ROK"\} 20/);
  // smppgw status, for a person: the rates its help promises, per account and per connector.
  await new Promise((r) => setTimeout(r, 1_100)); // the second the load ended in is complete
  const shown = spawnSync(process.execPath, [CLI, 'status', '--url', `http://127.0.0.1:${port}`], { encoding: 'utf8' });
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /^ready: yes {3}store: ok/);
  assert.match(shown.stdout, /^ {2}account +accepted\/s +outbox +binds$/m);
  const gone = /^ {2}gone +(\d+\.\d) +0 +/m.exec(shown.stdout);
  assert.ok(gone && Number(gone[1]) > 0, shown.stdout);
  const simRow = /^ {2}sim +yes +(\d+\.\d) +/m.exec(shown.stdout);
  assert.ok(simRow && Number(simRow[1]) > 0, shown.stdout);
  cli(db, 'account', 'remove', 'gone');
  await waitFor(async () => !/account="gone"/.test(await scrape(port)), 'no series of the removed account', 10_000);
});

test('with http.token, /status needs it (Bearer or Basic) while /metrics, /healthz and /readyz stay open; smppgw status sends it', async (t) => {
  const token = 'ops-token-1234';
  const { gw } = await carrierGatewayForTest(t, { SMPPGW_HTTP__TOKEN: token });
  const get = (path: string, authorization?: string) =>
    fetch(`http://127.0.0.1:${gw.httpPort}${path}`, { signal: AbortSignal.timeout(5_000), headers: authorization ? { authorization } : {} });
  const refused = await get('/status');
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get('www-authenticate') ?? '', /Bearer/);
  assert.equal((await get('/status', 'Bearer wrong')).status, 401);
  assert.equal((await get('/status', `Bearer ${token}`)).status, 200);
  assert.equal((await get('/status', `Basic ${Buffer.from(`ops:${token}`).toString('base64')}`)).status, 200);
  for (const open of ['/metrics', '/healthz', '/readyz']) assert.equal((await get(open)).status, 200, open);

  // /lockouts is behind the same rule, and `smppgw lockout list` sends the token too.
  assert.equal((await get('/lockouts')).status, 401);
  const lockouts = spawnSync(process.execPath, [CLI, 'lockout', 'list', '--json', '--url', `http://127.0.0.1:${gw.httpPort}`], {
    encoding: 'utf8',
    env: { ...process.env, SMPPGW_HTTP__TOKEN: token },
  });
  assert.equal(lockouts.status, 0, lockouts.stderr);
  assert.deepEqual(JSON.parse(lockouts.stdout), []);

  const status = (env: NodeJS.ProcessEnv, ...more: string[]) =>
    spawnSync(process.execPath, [CLI, 'status', '--url', `http://127.0.0.1:${gw.httpPort}`, ...more], { encoding: 'utf8', env: { ...process.env, ...env } });
  const ok = status({ SMPPGW_HTTP__TOKEN: token }, '--json');
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).ready, true);
  const no = status({ SMPPGW_HTTP__TOKEN: '' });
  assert.equal(no.status, 69);
  assert.match(no.stderr, /^smppgw: .*asks for http\.token: set it in the config or SMPPGW_HTTP__TOKEN\n$/);
});

test('smppgw health exits 0 for a live gateway found through the config/environment port, 1 in one line when none answers', async (t) => {
  const { gw } = await carrierGatewayForTest(t);
  const health = (port: number) => spawnSync(process.execPath, [CLI, 'health'], { encoding: 'utf8', env: { ...process.env, SMPPGW_HTTP__PORT: String(port) } });
  const alive = health(gw.httpPort);
  assert.equal(alive.status, 0, alive.stderr);
  assert.equal(alive.stderr, '');
  assert.equal(await gw.stop(), 0);
  const gone = health(gw.httpPort);
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /^smppgw: http:\/\/127\.0\.0\.1:\d+\/healthz: .+\n$/);
});

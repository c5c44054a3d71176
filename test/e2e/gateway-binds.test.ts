// ESME binds against the account table, through the gateway as a child process: password, CIDR
// allow-list, bind types, max binds, disabled accounts; and a carrier connector as a
// transmitter + receiver pair.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runLoad } from '../../src/sim/load.js';
import { SmscSimulator } from '../../src/sim/smsc.js';
import type { BindCommand } from '../../src/smpp/states.js';
import { BindError } from '../../src/smpp/errors.js';
import { cli, startGateway, tempDir, type GatewayProcess } from '../helpers/gateway-process.js';

/** Binds once (no reconnect) and reports the status: 0 when bound. */
async function bindStatus(
  port: number,
  systemId: string,
  password: string,
  command: BindCommand = 'bind_transceiver',
): Promise<{ status: number; close(): Promise<void> }> {
  const { Session } = await import('../../src/smpp/session.js');
  const net = await import('node:net');
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const session = new Session(socket, { role: 'esme' });
  try {
    await session.bind(command, { system_id: systemId, password });
    return { status: 0, close: () => session.close() };
  } catch (err) {
    session.destroy();
    if (err instanceof BindError) return { status: err.status, close: async () => {} };
    throw err;
  }
}

describe('ESME bind checks', () => {
  let tmp: ReturnType<typeof tempDir>;
  let gw: GatewayProcess;
  before(async () => {
    tmp = tempDir();
    const db = `${tmp.dir}/gw.db`;
    cli(db, 'init');
    cli(db, 'account', 'add', 'open1', '--password', 'pw1', '--max-binds', '2');
    cli(db, 'account', 'add', 'fenced', '--password', 'pw2', '--allow', '10.0.0.0/8');
    cli(db, 'account', 'add', 'txonly', '--password', 'pw3', '--bind-types', 'tx');
    cli(db, 'account', 'add', 'off', '--password', 'pw4', '--disabled');
    // These tests fail binds on purpose, from one address: no lockouts here (tested below).
    gw = await startGateway(db, [], { SMPPGW_SECURITY__BINDFAILURES: '0' });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    tmp.cleanup();
  });

  test('right password binds; wrong password is ESME_RINVPASWD; unknown system_id ESME_RINVSYSID', async () => {
    const ok = await bindStatus(gw.smppPort, 'open1', 'pw1');
    assert.equal(ok.status, 0);
    await ok.close();
    assert.equal((await bindStatus(gw.smppPort, 'open1', 'nope')).status, 0x0e);
    assert.equal((await bindStatus(gw.smppPort, 'nobody', 'pw1')).status, 0x0f);
  });

  test('an address outside the allow-list, a bind type not allowed, a disabled account: refused', async () => {
    assert.equal((await bindStatus(gw.smppPort, 'fenced', 'pw2')).status, 0x0d, '127.0.0.1 is not in 10.0.0.0/8');
    assert.equal((await bindStatus(gw.smppPort, 'txonly', 'pw3', 'bind_transceiver')).status, 0x0d);
    const tx = await bindStatus(gw.smppPort, 'txonly', 'pw3', 'bind_transmitter');
    assert.equal(tx.status, 0);
    await tx.close();
    assert.equal((await bindStatus(gw.smppPort, 'off', 'pw4')).status, 0x0f);
  });

  test('max binds: the third bind of an account allowed two is refused; a bind frees its place when it goes', async () => {
    const a = await bindStatus(gw.smppPort, 'open1', 'pw1');
    const b = await bindStatus(gw.smppPort, 'open1', 'pw1');
    assert.deepEqual([a.status, b.status], [0, 0]);
    assert.equal((await bindStatus(gw.smppPort, 'open1', 'pw1')).status, 0x0d);
    await a.close();
    const c = await bindStatus(gw.smppPort, 'open1', 'pw1');
    assert.equal(c.status, 0);
    await Promise.all([b.close(), c.close()]);
  });

  test('refusals are logged (without the password) and counted by result', async () => {
    const lines = gw.logs.filter((l) => l.msg === 'bind refused');
    assert.ok(lines.some((l) => l.why === 'wrong password' && l.systemId === 'open1'));
    assert.ok(!JSON.stringify(gw.logs).includes('nope'), 'no password in any log line');
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    assert.match(metrics, /smppgw_esme_bind_attempts_total\{result="ESME_RINVPASWD"\} [1-9]/);
  });
});

test('repeated failed binds lock out the system_id from that address; too many connections from one address are closed', async () => {
  const tmp = tempDir();
  const db = `${tmp.dir}/gw.db`;
  cli(db, 'init');
  cli(db, 'account', 'add', 'acme', '--password', 'right');
  const gw = await startGateway(db, [], { SMPPGW_SECURITY__BINDFAILURES: '3', SMPPGW_SECURITY__MAXCONNECTIONSPERIP: '3' });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await bindStatus(gw.smppPort, 'acme', 'wrong')).status, 0x0e);
    assert.equal((await bindStatus(gw.smppPort, 'acme', 'right')).status, 0x0d, 'locked out: even the right password is refused');
    await gw.waitLog((l) => l.msg === 'locked out after repeated failed binds' && l.kind === 'system_id');
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    assert.doesNotMatch(metrics, /smppgw_bind_lockouts_total\{kind="ip"\}/, 'below security.addressBindFailures: the address stays open');
    assert.match(metrics, /smppgw_bind_lockouts_total\{kind="system_id"\} 1/);
    // Per-address cap: the fourth open connection from 127.0.0.1 is closed at once.
    const net = await import('node:net');
    const open = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<import('node:net').Socket>((resolve) => {
            const s = net.connect({ host: '127.0.0.1', port: gw.smppPort }, () => resolve(s));
          }),
      ),
    );
    const fourth = net.connect({ host: '127.0.0.1', port: gw.smppPort });
    await new Promise<void>((resolve) => fourth.once('close', () => resolve()));
    await gw.waitLog((l) => l.msg === 'too many connections from this address; closed');
    for (const s of open) s.destroy();
  } finally {
    assert.equal(await gw.stop(), 0);
    tmp.cleanup();
  }
});

test('a connector bound as a transmitter + receiver pair sends on one and takes receipts on the other', async () => {
  const tmp = tempDir();
  const sim = new SmscSimulator({ dlrDelayMs: 0 });
  await sim.start();
  const binds: string[] = [];
  sim.on('bind', (e: { command: string }) => binds.push(e.command));
  const db = `${tmp.dir}/gw.db`;
  cli(db, 'init');
  cli(db, 'account', 'add', 'acme', '--password', 'pw');
  cli(db, 'connector', 'add', 'pair', '--host', '127.0.0.1', '--port', String(sim.port), '--system-id', 'gw', '--password', 'x', '--bind', 'txrx');
  cli(db, 'route', 'add', 'mt', '--connector', 'pair');
  const gw = await startGateway(db);
  try {
    const s = await runLoad({ port: gw.smppPort, systemId: 'acme', password: 'pw', count: 100, dlr: true, timeoutMs: 15_000 });
    assert.equal(s.acked, 100);
    assert.equal(s.dlrsMatched, 100);
    assert.deepEqual(binds.sort(), ['bind_receiver', 'bind_transmitter']);
  } finally {
    assert.equal(await gw.stop(), 0);
    await sim.stop();
    tmp.cleanup();
  }
});

test('SIGHUP rereads the config file: new lockout settings apply without a restart; a bad file is refused and logged', async () => {
  const tmp = tempDir();
  const db = `${tmp.dir}/gw.db`;
  const configFile = `${tmp.dir}/smppgw.yaml`;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(configFile, 'security:\n  bindFailures: 0\n');
  cli(db, 'init');
  cli(db, 'account', 'add', 'acme', '--password', 'right');
  const gw = await startGateway(db, ['--config', configFile]);
  try {
    for (let i = 0; i < 4; i++) assert.equal((await bindStatus(gw.smppPort, 'acme', 'wrong')).status, 0x0e, 'no lockouts yet');
    writeFileSync(configFile, 'security:\n  bindFailures: 2\n');
    gw.child.kill('SIGHUP');
    await gw.waitLog((l) => l.msg === 'configuration reloaded');
    for (let i = 0; i < 2; i++) assert.equal((await bindStatus(gw.smppPort, 'acme', 'wrong')).status, 0x0e);
    assert.equal((await bindStatus(gw.smppPort, 'acme', 'right')).status, 0x0d, 'locked out under the new setting');
    writeFileSync(configFile, 'security:\n  bindFailures: many\n');
    gw.child.kill('SIGHUP');
    const refused = await gw.waitLog((l) => l.msg === 'configuration reload refused; the running configuration stays');
    assert.match(String(refused.err), /security\.bindFailures/);
  } finally {
    assert.equal(await gw.stop(), 0);
    tmp.cleanup();
  }
});

// Bind lockouts through the gateway as a child process: failed binds lock the (address, system_id)
// pair, not every account behind the address; guessing across many system_ids locks the address;
// lockouts show in /status and in a gauge, and `smppgw lockout list|clear` ends them while running.
import type { GatewayStatus } from '../../src/status.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { test } from 'node:test';
import { BindError } from '../../src/errors.js';
import { Session } from '../../src/smpp/session.js';
import { CLI, cli, startGateway, tempDir } from '../helpers/gateway-process.js';

/** Binds once and reports the status (0: bound, then unbound). */
async function bindStatus(port: number, systemId: string, password: string): Promise<number> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const session = new Session(socket, { role: 'esme' });
  try {
    await session.bind('bind_transceiver', { system_id: systemId, password });
    await session.close();
    return 0;
  } catch (err) {
    session.destroy();
    if (err instanceof BindError) return err.status;
    throw err;
  }
}

/** `smppgw lockout …` against the running gateway's HTTP endpoint. */
function lockoutCli(httpPort: number, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, 'lockout', ...args, '--url', `http://127.0.0.1:${httpPort}`], { encoding: 'utf8', timeout: 20_000 });
}

async function get(httpPort: number, path: string): Promise<string> {
  return (await fetch(`http://127.0.0.1:${httpPort}${path}`)).text();
}

test('lockouts: failed binds for an unknown system_id lock that pair only; the address is locked past addressBindFailures; list, /status, gauge and clear', async () => {
  const tmp = tempDir();
  const db = `${tmp.dir}/gw.db`;
  cli(db, 'init');
  cli(db, 'account', 'add', 'acme', '--password', 'right');
  cli(db, 'account', 'add', 'beta', '--password', 'right2');
  const gw = await startGateway(db, [], { SMPPGW_SECURITY__BINDFAILURES: '5', SMPPGW_SECURITY__ADDRESSBINDFAILURES: '12' });
  try {
    // The reproduction: five failed binds for a system_id nobody has, from 127.0.0.1.
    for (let i = 0; i < 5; i++) assert.equal(await bindStatus(gw.smppPort, 'nobody', 'x'), 0x0f);
    assert.equal(await bindStatus(gw.smppPort, 'nobody', 'x'), 0x0d, 'that pair is locked');
    assert.equal(await bindStatus(gw.smppPort, 'acme', 'right'), 0, 'another account behind the same address still binds');
    // Wrong passwords for acme lock acme from here; beta still binds.
    for (let i = 0; i < 5; i++) assert.equal(await bindStatus(gw.smppPort, 'acme', 'wrong'), 0x0e);
    assert.equal(await bindStatus(gw.smppPort, 'acme', 'right'), 0x0d, 'locked: even the right password is refused');
    assert.equal(await bindStatus(gw.smppPort, 'beta', 'right2'), 0);

    const listed = JSON.parse(lockoutCli(gw.httpPort, 'list', '--json').stdout) as Array<Record<string, string>>;
    assert.deepEqual(listed.map((r) => `${r.kind}:${r.address}:${r.system_id}`).sort(), ['system_id:127.0.0.1:acme', 'system_id:127.0.0.1:nobody']);
    const status = JSON.parse(await get(gw.httpPort, '/status')) as GatewayStatus;
    assert.deepEqual(status.lockouts.map((l) => l.systemId).sort(), ['acme', 'nobody']);
    assert.match(await get(gw.httpPort, '/metrics'), /smppgw_bind_lockouts\{kind="system_id"\} 2/);

    // The operator ends acme's lockout: it binds again at once; nobody's stays.
    const cleared = lockoutCli(gw.httpPort, 'clear', '--system-id', 'acme', '--address', '127.0.0.1');
    assert.equal(cleared.status, 0, cleared.stderr);
    assert.equal(cleared.stdout.trim(), 'cleared 1 lockout(s)');
    assert.equal(await bindStatus(gw.smppPort, 'acme', 'right'), 0);
    assert.equal(await bindStatus(gw.smppPort, 'nobody', 'x'), 0x0d);
    await gw.waitLog((l) => l.msg === 'lockouts cleared by the operator' && l.cleared === 1);

    // Guessing across system_ids: 12 failures from the address (10 so far count: 5 + 5) lock it whole.
    assert.equal(await bindStatus(gw.smppPort, 'guess1', 'x'), 0x0f);
    assert.equal(await bindStatus(gw.smppPort, 'guess2', 'x'), 0x0f);
    assert.equal(await bindStatus(gw.smppPort, 'beta', 'right2'), 0x0d, 'the address is locked');
    await gw.waitLog((l) => l.msg === 'locked out after repeated failed binds' && l.kind === 'ip' && l.remote === '127.0.0.1');
    assert.match(await get(gw.httpPort, '/metrics'), /smppgw_bind_lockouts\{kind="ip"\} 1/);
    const onlyAddress = JSON.parse(lockoutCli(gw.httpPort, 'list', '--json', '--address', '127.0.0.1').stdout) as Array<Record<string, string>>;
    assert.ok(onlyAddress.some((r) => r.kind === 'ip' && r.system_id === '*'));

    assert.equal(lockoutCli(gw.httpPort, 'clear').stdout.trim(), 'cleared 2 lockout(s)');
    assert.equal(lockoutCli(gw.httpPort, 'list').stdout.trim(), '(none)');
    assert.equal(await bindStatus(gw.smppPort, 'beta', 'right2'), 0);
    assert.match(await get(gw.httpPort, '/metrics'), /smppgw_bind_lockouts\{kind="ip"\} 0/);
  } finally {
    assert.equal(await gw.stop(), 0);
    tmp.cleanup();
  }
});

test('lockout CLI: a gateway that cannot be reached is one line and exit 69', async () => {
  const r = spawnSync(process.execPath, [CLI, 'lockout', 'list', '--url', 'http://127.0.0.1:1'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 69);
  assert.match(r.stderr, /^smppgw: cannot reach the gateway at http:\/\/127\.0\.0\.1:1\/lockouts/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

// SmppServer: the bind authentication hook, the bind timeout, and close() unbinding its sessions.
// Real TCP on 127.0.0.1 port 0; ESMEs are raw Peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SmppError } from '../../../src/smpp/errors.js';
import { Status } from '../../../src/smpp/defs.js';
import { SmppServer } from '../../../src/smpp/server.js';
import type { BindPdu } from '../../../src/smpp/session.js';
import { ManualClock } from '../../helpers/clock.js';
import { connectPeer, guard, submit } from '../../helpers/peer.js';

const ESME_RINVPASWD = Status.ESME_RINVPASWD;
const ESME_RINVSYSID = Status.ESME_RINVSYSID;

/** Test cleanup: no unbind handshake (the ManualClock would never time it out). */
async function teardown(server: SmppServer): Promise<void> {
  for (const session of server.sessions) session.destroy('test over');
  await server.close(0);
}

function authServer(clock = new ManualClock()) {
  const binds: string[] = [];
  const server = new SmppServer({
    host: '127.0.0.1',
    port: 0,
    session: { clock, enquireLinkMs: 0, bindTimeoutMs: 0 },
    handlers: {
      bind(pdu: BindPdu) {
        binds.push(`${pdu.system_id}/${pdu.password}`);
        if (pdu.system_id === 'banned') throw new SmppError(ESME_RINVSYSID);
        if (pdu.system_id !== 'esme' || pdu.password !== 'right') return { command_status: ESME_RINVPASWD };
        return { system_id: 'gw' };
      },
      request: () => ({ message_id: 'accepted' }),
    },
  });
  return { server, binds, clock };
}

test('server: the bind hook refuses (ESME_RINVPASWD, an SmppError status) and accepts; a refused bind leaves the session open for a retry', async (t) => {
  const { server, binds } = authServer();
  const { port } = await server.listen();
  t.after(() => teardown(server));
  const peer = await connectPeer(port);
  t.after(() => peer.socket.destroy());

  const wrong = await peer.bind('bind_transmitter', { system_id: 'esme', password: 'wrong' }, 1);
  assert.deepEqual([wrong.command, wrong.sequence_number, wrong.command_status], ['bind_transmitter_resp', 1, ESME_RINVPASWD]);
  const [session] = [...server.sessions];
  assert.ok(session);
  assert.equal(session.state, 'open');
  // Unbound still: a submit is refused.
  peer.send({ ...submit('too early'), sequence_number: 2 });
  assert.notEqual((await peer.next()).command_status, 0);

  const banned = await peer.bind('bind_transmitter', { system_id: 'banned', password: 'x' }, 3);
  assert.equal(banned.command_status, ESME_RINVSYSID);
  assert.equal(session.state, 'open');

  const right = await peer.bind('bind_transmitter', { system_id: 'esme', password: 'right' }, 4);
  assert.deepEqual([right.command_status, (right as typeof right & { system_id: string }).system_id], [0, 'gw']);
  assert.equal(session.state, 'bound_tx');
  assert.equal(session.systemId, 'esme');
  peer.send({ ...submit('hello'), sequence_number: 5 });
  const resp = await peer.next();
  assert.deepEqual([resp.command, resp.command_status], ['submit_sm_resp', 0]);
  assert.deepEqual(binds, ['esme/wrong', 'banned/x', 'esme/right']);
  assert.equal(peer.isClosed, false);
});

test('server: a connection that does not bind within bindTimeoutMs is closed', async (t) => {
  const clock = new ManualClock();
  const server = new SmppServer({ host: '127.0.0.1', port: 0, session: { clock, enquireLinkMs: 0, bindTimeoutMs: 5_000 }, handlers: {} });
  const { port } = await server.listen();
  t.after(() => teardown(server));
  const peer = await connectPeer(port);
  t.after(() => peer.socket.destroy());
  await peer.sync(); // the server has its session
  assert.equal(server.sessions.size, 1);
  clock.advance(4_999);
  assert.deepEqual(await peer.sync(), []);
  clock.advance(1);
  await guard(peer.closed, 'the server to close the connection');
  assert.equal(server.sessions.size, 0);
});

test('server.close() unbinds bound sessions and closes the others', async (t) => {
  const { server } = authServer();
  const { port } = await server.listen();
  const bound = await connectPeer(port);
  const idle = await connectPeer(port);
  t.after(() => {
    bound.socket.destroy();
    idle.socket.destroy();
    return teardown(server);
  });
  assert.equal((await bound.bind('bind_transceiver', { system_id: 'esme', password: 'right' })).command_status, 0);
  await idle.sync();
  assert.equal(server.sessions.size, 2);

  let closed = false;
  const closing = server.close(5_000).then(() => (closed = true));
  const unbind = await bound.next('unbind');
  assert.equal(unbind.command, 'unbind');
  assert.equal(closed, false);
  bound.answer(unbind);
  await guard(closing, 'server.close()');
  await guard(Promise.all([bound.closed, idle.closed]), 'both connections to close');
  assert.equal(idle.received.length, 1, 'the unbound one got no unbind (only its sync answer)');
  assert.equal(server.sessions.size, 0);
  assert.equal(server.address, undefined);
});

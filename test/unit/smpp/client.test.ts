// SmppClient against a real SmppServer on 127.0.0.1: bind, submit, reconnect with backoff and jitter
// (on the ManualClock with a fixed random), refused binds retried, close() stopping it all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionClosedError } from '../../../src/smpp/errors.js';
import { Status } from '../../../src/smpp/defs.js';
import type { Pdu } from '../../../src/smpp/pdu.js';
import { backoffDelay, SmppClient, type BackoffOptions } from '../../../src/smpp/client.js';
import { SmppServer } from '../../../src/smpp/server.js';
import type { Session } from '../../../src/smpp/session.js';
import { ManualClock } from '../../helpers/clock.js';
import { guard, submit } from '../../helpers/peer.js';

const BACKOFF: BackoffOptions = { initialMs: 100, factor: 2, maxMs: 1_000, jitter: 0.2 };
const RANDOM = () => 0.75; // jitter factor 1 - 0.2 + 2 * 0.2 * 0.75 = 1.1

/** Named events a test can wait for in order. */
class Events {
  private readonly seen: string[] = [];
  private wake: (() => void) | undefined;
  push(name: string): void {
    this.seen.push(name);
    this.wake?.();
  }
  async next(name: string): Promise<void> {
    for (let i = 0; i < 1_000; i++) {
      const at = this.seen.indexOf(name);
      if (at >= 0) {
        this.seen.splice(0, at + 1);
        return;
      }
      await guard(new Promise<void>((resolve) => (this.wake = resolve)), `event ${name}`);
    }
    throw new Error(`event ${name} never came`);
  }
}

async function setup(t: { after(fn: () => unknown): void }, refuseFirst = 0) {
  const events = new Events();
  let binds = 0;
  const server = new SmppServer({
    host: '127.0.0.1',
    port: 0,
    session: { clock: new ManualClock(), enquireLinkMs: 0, bindTimeoutMs: 0 },
    handlers: {
      bind: () => (++binds <= refuseFirst ? { command_status: Status.ESME_RINVPASWD } : { system_id: 'gw' }),
      request: () => ({ message_id: 'srv-1' }),
    },
  });
  const { port } = await server.listen();
  const clock = new ManualClock();
  const client = new SmppClient({
    host: '127.0.0.1',
    port,
    bind: { command: 'bind_transceiver', system_id: 'esme', password: 'pw' },
    clock,
    random: RANDOM,
    backoff: BACKOFF,
    session: { enquireLinkMs: 0 },
    handlers: { state: (_s, state) => events.push(state) },
    onBound: () => events.push('onBound'),
    onUnbound: () => events.push('onUnbound'),
  });
  t.after(async () => {
    const closing = client.close();
    for (const session of server.sessions) session.destroy('test over');
    await server.close(0);
    await guard(closing, 'client close');
  });
  return { server, client, clock, events, binds: () => binds };
}

function serverSession(server: SmppServer): Session {
  const [session] = [...server.sessions];
  assert.ok(session, 'the server has a session');
  return session;
}

test('backoffDelay: exponential, capped, with jitter in [1 - jitter, 1 + jitter]', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, BACKOFF, () => 0.5)),
    [100, 200, 400, 800, 1_000, 1_000],
  );
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((n) => backoffDelay(n, BACKOFF, RANDOM)),
    [110, 220, 440, 880, 1_100],
  );
  assert.deepEqual(
    [0, 3].map((n) => backoffDelay(n, BACKOFF, () => 0)),
    [80, 640],
  );
  assert.deepEqual(
    [0, 3].map((n) => backoffDelay(n, BACKOFF, () => 1)),
    [120, 960],
  );
  assert.equal(
    backoffDelay(0, {}, () => 0.5),
    500,
    'default initial delay',
  );
  assert.equal(
    backoffDelay(100, {}, () => 0.5),
    30_000,
    'default cap',
  );
});

test('client: binds and submits; close() unbinds and does not reconnect', async (t) => {
  const { server, client, clock, events } = await setup(t);
  client.start();
  const session = await guard(client.whenBound(), 'bind');
  await events.next('onBound');
  assert.equal(session.state, 'bound_trx');
  const resp = (await guard(session.request(submit('hi')), 'submit_sm_resp')) as Pdu & { message_id: string };
  assert.deepEqual([resp.command, resp.command_status, resp.message_id], ['submit_sm_resp', 0, 'srv-1']);
  const atServer = serverSession(server);
  assert.equal(atServer.state, 'bound_trx');
  await guard(client.close(), 'client close');
  await guard(atServer.whenClosed(), 'server side close');
  assert.match(atServer.closeReason, /peer unbound/);
  assert.equal(clock.pendingTimers, 0, 'no reconnect scheduled');
  await assert.rejects(client.whenBound(), SessionClosedError);
});

test('client: reconnects with exponential backoff and jitter after the server drops the connection, and rebinds', async (t) => {
  const { server, client, clock, events, binds } = await setup(t);
  client.start();
  await guard(client.whenBound(), 'first bind');
  for (let drop = 0; drop < 2; drop++) {
    serverSession(server).destroy('dropped by the test');
    await events.next('onUnbound');
    assert.equal(client.session, undefined);
    // One timer left: the retry, due after backoffDelay(0) (the attempt count restarts after a bind).
    assert.equal(clock.pendingTimers, 1);
    assert.equal(clock.nextDue()! - clock.now(), backoffDelay(0, BACKOFF, RANDOM));
    assert.equal(clock.nextDue()! - clock.now(), 110);
    clock.advance(109);
    assert.equal(clock.pendingTimers, 1, 'not yet');
    clock.advance(1);
    const again = await guard(client.whenBound(), 'rebind');
    assert.equal(again.state, 'bound_trx');
    assert.equal(binds(), drop + 2);
  }
});

test('client: a refused bind is retried with growing backoff until it is accepted', async (t) => {
  const { client, clock, events, binds } = await setup(t, 2);
  client.start();
  for (const attempt of [0, 1]) {
    await events.next('closed'); // refused: the client drops the connection
    assert.equal(binds(), attempt + 1);
    assert.equal(clock.pendingTimers, 1);
    const delay = clock.nextDue()! - clock.now();
    assert.equal(delay, backoffDelay(attempt, BACKOFF, RANDOM));
    clock.advance(delay - 1);
    assert.equal(clock.pendingTimers, 1, 'not before the delay');
    clock.advance(1);
  }
  const session = await guard(client.whenBound(), 'third bind');
  assert.equal(session.state, 'bound_trx');
  assert.equal(binds(), 3);
});

test('client: close() stops reconnecting', async (t) => {
  const { server, client, clock, events, binds } = await setup(t);
  client.start();
  await guard(client.whenBound(), 'bind');
  const waiting = client.whenBound();
  serverSession(server).destroy('dropped by the test');
  await events.next('onUnbound');
  assert.equal(clock.pendingTimers, 1, 'a retry is scheduled');
  const later = client.whenBound();
  await guard(client.close(), 'close');
  assert.equal(clock.pendingTimers, 0, 'the retry is cancelled');
  clock.advance(60_000);
  assert.equal(clock.pendingTimers, 0);
  assert.equal(binds(), 1);
  assert.equal(server.sessions.size, 0);
  assert.equal((await waiting).state, 'closed', 'whenBound() before the drop had resolved with the old session');
  await assert.rejects(later, SessionClosedError);
});

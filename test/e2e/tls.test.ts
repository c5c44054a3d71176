// SMPP over TLS: SmppServer and SmppClient with certificates made by the openssl CLI for this run
// (test/helpers/tls.ts). Server verification is on by default, client certificates are enforced
// when asked for, and TLS below 1.2 is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { SmppClient, type ClientTlsOptions } from '../../src/smpp/client.js';
import type { Pdu } from '../../src/smpp/pdu.js';
import { SmppServer, type ServerTlsOptions } from '../../src/smpp/server.js';
import type { Session } from '../../src/smpp/session.js';
import { ManualClock } from '../helpers/clock.js';
import { guard, submit } from '../helpers/peer.js';
import { testPki } from '../helpers/tls.js';

const pki = testPki();

type Ctx = { after(fn: () => unknown): void };

async function tlsServer(t: Ctx, options: Partial<ServerTlsOptions> = {}) {
  const bindsFrom: string[] = [];
  const server = new SmppServer({
    host: '127.0.0.1',
    port: 0,
    tls: { ...pki.server, ...options },
    session: { clock: new ManualClock(), enquireLinkMs: 0, bindTimeoutMs: 0 },
    handlers: {
      bind(pdu, session) {
        const cert = (session.socket as tls.TLSSocket).getPeerCertificate();
        bindsFrom.push(`${pdu.system_id}:${cert.subject?.CN ?? 'no client cert'}`);
        return { system_id: 'gw' };
      },
      request: () => ({ message_id: 'tls-1' }),
    },
  });
  const { port } = await server.listen();
  t.after(async () => {
    for (const s of server.sessions) s.destroy('test over');
    await server.close(0);
  });
  return { server, port, bindsFrom };
}

/** A client that records its sessions' ends; resolves `closed` with the first close reason. */
function tlsClient(t: Ctx, port: number, options: ClientTlsOptions) {
  let bound = 0;
  let firstClose: ((reason: string) => void) | undefined;
  const closed = new Promise<string>((resolve) => (firstClose = resolve));
  const client = new SmppClient({
    host: '127.0.0.1',
    port,
    tls: options,
    bind: { command: 'bind_transceiver', system_id: 'esme', password: 'pw' },
    clock: new ManualClock(), // retries never fire: each test sees exactly one attempt
    session: { enquireLinkMs: 0 },
    handlers: { state: (s: Session, state) => state === 'closed' && firstClose?.(s.closeReason) },
    onBound: () => void bound++,
  });
  t.after(() => {
    client.session?.destroy('test over');
    return client.close();
  });
  client.start();
  return { client, closed, bound: () => bound };
}

test('tls: a client trusting our CA binds and submits over TLS 1.2+', async (t) => {
  const { port, bindsFrom } = await tlsServer(t);
  const { client } = tlsClient(t, port, { ca: pki.ca });
  const session = await guard(client.whenBound(), 'bind over TLS');
  const socket = session.socket as tls.TLSSocket;
  assert.equal(socket.encrypted, true);
  assert.equal(socket.authorized, true);
  assert.ok(['TLSv1.2', 'TLSv1.3'].includes(socket.getProtocol() ?? ''), `protocol ${socket.getProtocol()}`);
  const resp = (await guard(session.request(submit('secret')), 'submit_sm_resp')) as Pdu & { message_id: string };
  assert.deepEqual([resp.command_status, resp.message_id], [0, 'tls-1']);
  assert.deepEqual(bindsFrom, ['esme:no client cert']);
});

test('tls: a client without our CA refuses the server (verification is on by default)', async (t) => {
  const { server, port, bindsFrom } = await tlsServer(t);
  for (const options of [{}, { ca: pki.otherCa }] as ClientTlsOptions[]) {
    const { closed, bound } = tlsClient(t, port, options);
    const reason = await guard(closed, 'the refused connection to close');
    assert.match(reason, /certificate/i);
    assert.equal(bound(), 0);
  }
  assert.deepEqual(bindsFrom, []);
  assert.equal(server.sessions.size, 0);
});

test('tls: with requestCert + rejectUnauthorized a client with a certificate binds, one without is refused', async (t) => {
  const { port, bindsFrom } = await tlsServer(t, { ca: pki.ca, requestCert: true, rejectUnauthorized: true });
  const withCert = tlsClient(t, port, { ca: pki.ca, ...pki.client });
  await guard(withCert.client.whenBound(), 'bind with a client certificate');
  assert.deepEqual(bindsFrom, ['esme:smppgw test client']);

  const without = tlsClient(t, port, { ca: pki.ca });
  const reason = await guard(without.closed, 'the connection without a certificate to close');
  assert.ok(reason.length > 0);
  assert.equal(without.bound(), 0);
  assert.deepEqual(bindsFrom, ['esme:smppgw test client'], 'no bind reached the server');
});

test('tls: a client offering only TLS below 1.2 is refused (and TLS 1.2 itself is accepted)', async (t) => {
  const { port } = await tlsServer(t);
  const old = { ca: pki.ca, minVersion: 'TLSv1' as const, maxVersion: 'TLSv1.1' as const, ciphers: 'DEFAULT:@SECLEVEL=0' };
  const handshake = (p: number, options: tls.ConnectionOptions) =>
    guard(
      new Promise<string>((resolve) => {
        const socket = tls.connect({ port: p, host: '127.0.0.1', ...options });
        socket.once('secureConnect', () => {
          resolve(`ok ${socket.getProtocol()}`);
          socket.destroy();
        });
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
      }),
      'handshake',
    );

  // Control: the same client does speak TLS 1.1 to a server that allows it.
  const lax = tls.createServer({ ...pki.server, minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, (s) => s.end());
  await new Promise<void>((resolve) => lax.listen(0, '127.0.0.1', resolve));
  t.after(() => lax.close());
  assert.equal(await handshake((lax.address() as { port: number }).port, old), 'ok TLSv1.1');

  assert.equal(await handshake(port, old), 'error ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  assert.equal(await handshake(port, { ca: pki.ca, maxVersion: 'TLSv1.2' }), 'ok TLSv1.2');
});

// The TLS listener under half-open connections and weak clients: connections still in their
// handshake count against the caps and are closed at the handshake deadline; only the Mozilla
// "intermediate" suites are offered; failed handshakes are logged with the peer, rate-limited.
// Real sockets and certificates made by openssl (test/helpers/tls.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { createLogger } from '../../src/log.js';
import { SmppClient } from '../../src/smpp/client.js';
import { SmppServer, type ServerOptions } from '../../src/smpp/server.js';
import { ManualClock } from '../helpers/clock.js';
import { guard } from '../helpers/peer.js';
import { testPki } from '../helpers/tls.js';
import { waitFor } from '../helpers/wait.js';

const pki = testPki();

type Ctx = { after(fn: () => unknown): void };

async function tlsServer(t: Ctx, options: Partial<ServerOptions> = {}, cert: { key: string; cert: string } = pki.server) {
  const logs: Array<Record<string, unknown>> = [];
  const refused: string[] = [];
  const server = new SmppServer({
    host: '127.0.0.1',
    port: 0,
    tls: { ...cert, handshakeTimeoutMs: 600 },
    session: { clock: new ManualClock(), enquireLinkMs: 0, bindTimeoutMs: 0 },
    handlers: { bind: () => ({ system_id: 'gw' }), request: () => ({ message_id: '1' }) },
    logger: createLogger({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) }),
    onRefused: (reason) => refused.push(reason),
    ...options,
  });
  const { port } = await server.listen();
  t.after(async () => {
    for (const s of server.sessions) s.destroy('test over');
    await server.close(0);
  });
  return { server, port, logs, refused };
}

/** A TCP connection that never sends a ClientHello; `closed` settles when the server closes it. */
async function halfOpen(t: Ctx, port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  return { socket, closed };
}

/** A real client's TLS bind; resolves once bound. */
function realBind(t: Ctx, port: number) {
  const client = new SmppClient({
    host: '127.0.0.1',
    port,
    tls: { ca: pki.ca },
    bind: { command: 'bind_transceiver', system_id: 'esme', password: 'pw' },
    clock: new ManualClock(),
    session: { enquireLinkMs: 0 },
  });
  t.after(() => {
    client.session?.destroy('test over');
    return client.close();
  });
  client.start();
  return guard(client.whenBound(), 'a real client binds over TLS');
}

/** What a client offering only `ciphers` (TLS 1.2) gets from the server. */
function handshake(port: number, options: tls.ConnectionOptions): Promise<string> {
  return guard(
    new Promise<string>((resolve) => {
      const socket = tls.connect({ port, host: '127.0.0.1', ...options });
      socket.once('secureConnect', () => {
        resolve(`ok ${socket.getCipher().name}`);
        socket.destroy();
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
    }),
    'handshake',
  );
}

test('tls handshakes: half-open connections count against the per-address cap and are closed at the deadline; then a real client binds', async (t) => {
  const { server, port, logs, refused } = await tlsServer(t, { maxConnectionsPerIp: 3, handshakeLogMs: 60_000 });
  const held = [];
  for (let i = 0; i < 3; i++) held.push(await halfOpen(t, port));
  await waitFor(() => server.connectionCount === 3, 'three connections in their handshake counted');
  const fourth = await halfOpen(t, port);
  await guard(fourth.closed, 'the fourth connection from 127.0.0.1 refused at once');
  assert.deepEqual(refused, ['per_ip']);
  await guard(Promise.all(held.map((h) => h.closed)), 'half-open connections closed by the handshake deadline');
  await waitFor(() => server.connectionCount === 0, 'their places freed');
  await realBind(t, port);
  assert.equal(server.sessions.size, 1);
  // Past the handshake the deadline no longer applies (600 ms here).
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(server.sessions.size, 1, 'the bound session outlives the handshake deadline');

  // Three failed handshakes, one interval: one line, naming the peer; the rest wait for the summary.
  const failed = logs.filter((l) => l.msg === 'TLS handshake failed');
  assert.equal(failed.length, 1, JSON.stringify(failed));
  assert.match(String(failed[0]!.remote), /^127\.0\.0\.1:\d+$/);
  assert.match(String(failed[0]!.err), /no TLS session after 600 ms/);
});

test('tls handshakes: half-open connections hold places under the total cap until the deadline; then a real client binds', async (t) => {
  const { port, logs, refused } = await tlsServer(t, { maxConnections: 3, handshakeLogMs: 200 });
  const held = [];
  for (let i = 0; i < 3; i++) held.push(await halfOpen(t, port));
  const fourth = await halfOpen(t, port);
  await guard(fourth.closed, 'the fourth connection refused at once (total cap)');
  await waitFor(() => refused.includes('total'), 'counted as refused over the total cap');
  await guard(Promise.all(held.map((h) => h.closed)), 'half-open connections closed by the handshake deadline');
  await realBind(t, port);
  // The failures after the first come as one summary line with a count and the peers.
  await waitFor(() => logs.some((l) => l.msg === 'TLS handshakes failed'), 'the summary line');
  const summary = logs.find((l) => l.msg === 'TLS handshakes failed')!;
  assert.equal(summary.failed, 2, 'the deadline closed three: one line at once, two in the summary');
  assert.deepEqual(summary.peers, ['127.0.0.1']);
  assert.equal(logs.filter((l) => l.msg === 'TLS handshake failed').length, 1);
});

test('tls suites: a client offering only CBC-SHA1 is refused; ECDHE+AEAD on TLS 1.2 and TLS 1.3 are accepted', async (t) => {
  const { port, logs } = await tlsServer(t);
  const v12 = { ca: pki.ca, maxVersion: 'TLSv1.2' as const };
  assert.match(await handshake(port, { ...v12, ciphers: 'ECDHE-ECDSA-AES128-SHA' }), /^error /);
  assert.match(await handshake(port, { ...v12, ciphers: 'ECDHE-ECDSA-AES256-SHA' }), /^error /);
  assert.equal(await handshake(port, { ...v12, ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }), 'ok ECDHE-ECDSA-AES128-GCM-SHA256');
  assert.equal(await handshake(port, { ...v12, ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' }), 'ok ECDHE-ECDSA-CHACHA20-POLY1305');
  assert.match(await handshake(port, { ca: pki.ca, minVersion: 'TLSv1.3' }), /^ok TLS_/);
  await waitFor(() => logs.some((l) => l.msg === 'TLS handshake failed'), 'the refused handshake logged');
  assert.match(String(logs.find((l) => l.msg === 'TLS handshake failed')!.remote), /^127\.0\.0\.1:\d+$/, 'the log line names the peer');
});

test('tls suites: with an RSA certificate, a client offering only static-RSA suites is refused; ECDHE-RSA+AEAD is accepted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smppgw-rsa-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'k.pem',
      '-out',
      'c.pem',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 },
  );
  const rsa = { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') };
  const { port } = await tlsServer(t, {}, rsa);
  const v12 = { ca: rsa.cert, maxVersion: 'TLSv1.2' as const };
  assert.match(await handshake(port, { ...v12, ciphers: 'AES128-GCM-SHA256:AES256-GCM-SHA384' }), /^error /, 'static RSA key exchange');
  assert.match(await handshake(port, { ...v12, ciphers: 'AES128-SHA' }), /^error /, 'static RSA with CBC-SHA1');
  assert.match(await handshake(port, { ...v12, ciphers: 'ECDHE-RSA-AES128-SHA' }), /^error /, 'CBC-SHA1');
  assert.equal(await handshake(port, { ...v12, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }), 'ok ECDHE-RSA-AES128-GCM-SHA256');
});

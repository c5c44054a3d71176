// Preloaded (`node --import`) by the benchmarks into `smppgw load` and `smppgw sim smsc` when they
// run with --tls (see tls.ts): those tools have no TLS option of their own.
//   BENCH_TLS_CONNECT_CA=ca.pem        every net.connect() becomes tls.connect() (TLS 1.2+, the
//                                      server certificate verified against that CA);
//   BENCH_TLS_LISTEN_CERT / _KEY=pem   every net.createServer() becomes tls.createServer().
// Both tools reach `net` through its default export, so replacing the functions on it is enough.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const mutableNet = net as unknown as Record<string, unknown>;

const connectCa = process.env.BENCH_TLS_CONNECT_CA;
if (connectCa) {
  const ca = readFileSync(connectCa);
  const plain = net.connect as (...args: unknown[]) => net.Socket;
  const connect = (...args: unknown[]): net.Socket => {
    const o = args[0];
    if (typeof o !== 'object' || o === null || !('port' in o)) return plain(...args);
    const cb = typeof args[1] === 'function' ? (args[1] as () => void) : undefined;
    return tls.connect({ ...(o as net.TcpNetConnectOpts), ca, minVersion: 'TLSv1.2' }, cb);
  };
  mutableNet.connect = connect;
  mutableNet.createConnection = connect;
}

const cert = process.env.BENCH_TLS_LISTEN_CERT;
const key = process.env.BENCH_TLS_LISTEN_KEY;
if (cert && key) {
  const options = { cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1.2' as const };
  mutableNet.createServer = (...args: unknown[]): net.Server => {
    const listener = args.find((a) => typeof a === 'function') as ((s: tls.TLSSocket) => void) | undefined;
    const server = tls.createServer(options, listener);
    server.on('tlsClientError', (err) => process.stderr.write(`tls-shim: TLS handshake failed: ${err.message}\n`));
    return server;
  };
}

// TLS for the end-to-end benchmarks (`--tls`): a throw-away PKI made with the openssl CLI (a CA and
// a server certificate for 127.0.0.1, EC P-256), and how each process gets it:
//   - gateway: its own TLS listener (smpp.tls.enabled/cert/key, `--tls-port 0`) for the ESMEs, and
//     the connector to the simulator added with `--tls`, verified against the CA (smsc.tlsCa);
//   - simulator and load tool: `smppgw sim smsc` and `smppgw load` have no TLS option, so the
//     benchmark preloads tls-shim.js into them (`node --import`), which makes their plain listener
//     a TLS listener (simulator) and their connections TLS connections (load tool).
import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchPki {
  ca: string;
  cert: string;
  key: string;
}

const SHIM = pathToFileURL(fileURLToPath(new URL('./tls-shim.js', import.meta.url))).href;

/** Makes the CA and a server certificate for 127.0.0.1 in `dir`; returns the PEM file paths. */
export function makePki(dir: string): BenchPki {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...key,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=smppgw bench CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl('req', ...key, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  execFileSync(
    'sh',
    ['-c', 'printf "subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\nkeyUsage=critical,digitalSignature\\n" > server.ext'],
    { cwd: dir },
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  );
  for (const f of ['ca.key', 'server.key']) chmodSync(path.join(dir, f), 0o600);
  return { ca: path.join(dir, 'ca.crt'), cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') };
}

/** node arguments and environment that make a load tool connect with TLS (verifying against the CA). */
export function tlsClientShim(pki: BenchPki): { nodeArgs: string[]; env: NodeJS.ProcessEnv } {
  return { nodeArgs: ['--import', SHIM], env: { BENCH_TLS_CONNECT_CA: pki.ca } };
}

/** node arguments and environment that make the simulator listen with TLS. */
export function tlsServerShim(pki: BenchPki): { nodeArgs: string[]; env: NodeJS.ProcessEnv } {
  return { nodeArgs: ['--import', SHIM], env: { BENCH_TLS_LISTEN_CERT: pki.cert, BENCH_TLS_LISTEN_KEY: pki.key } };
}

/** The gateway's environment for its TLS listener, and for verifying a TLS connector. */
export function gatewayTlsEnv(pki: BenchPki): NodeJS.ProcessEnv {
  return {
    SMPPGW_SMPP__TLS__ENABLED: 'true',
    SMPPGW_SMPP__TLS__CERT: pki.cert,
    SMPPGW_SMPP__TLS__KEY: pki.key,
    SMPPGW_SMSC__TLSCA: pki.ca,
  };
}

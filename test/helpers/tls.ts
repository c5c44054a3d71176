// Test certificates made with the openssl CLI: a CA, a server certificate for 127.0.0.1/localhost
// and a client certificate, both signed by the CA, plus a second CA that signed nothing of ours.
// Made once per process into a temp dir (removed at exit). EC P-256 keys: quick to generate.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  /** PEM of the CA that signed the server and client certificates. */
  ca: string;
  /** PEM of an unrelated CA (a client trusting only it must refuse our server). */
  otherCa: string;
  server: { key: string; cert: string };
  client: { key: string; cert: string };
}

let cached: TestPki | undefined;

export function testPki(): TestPki {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'smppgw-tls-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const makeCa = (name: string) =>
    openssl(
      'req',
      '-x509',
      ...key,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=smppgw test ${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  makeCa('ca');
  makeCa('other-ca');
  const leaf = (name: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl('req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name === 'server' ? 'localhost' : 'smppgw test client'}`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n');
  leaf('client', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  cached = {
    ca: read('ca.crt'),
    otherCa: read('other-ca.crt'),
    server: { key: read('server.key'), cert: read('server.crt') },
    client: { key: read('client.key'), cert: read('client.crt') },
  };
  return cached;
}

/** Paths of the test PKI written as PEM files (for configuration that names files). */
export interface TestPkiFiles {
  ca: string;
  otherCa: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
}

/** Writes testPki()'s PEMs into `dir` (keys 0600) and returns their paths. */
export function writeTestPki(dir: string): TestPkiFiles {
  const pki = testPki();
  const files: TestPkiFiles = {
    ca: join(dir, 'ca.crt'),
    otherCa: join(dir, 'other-ca.crt'),
    serverKey: join(dir, 'server.key'),
    serverCert: join(dir, 'server.crt'),
    clientKey: join(dir, 'client.key'),
    clientCert: join(dir, 'client.crt'),
  };
  writeFileSync(files.ca, pki.ca);
  writeFileSync(files.otherCa, pki.otherCa);
  writeFileSync(files.serverKey, pki.server.key, { mode: 0o600 });
  writeFileSync(files.serverCert, pki.server.cert);
  writeFileSync(files.clientKey, pki.client.key, { mode: 0o600 });
  writeFileSync(files.clientCert, pki.client.cert);
  return files;
}

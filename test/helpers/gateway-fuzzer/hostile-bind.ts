// Now and then, from a fuzzing connection: a bind with hostile credentials on a connection of its
// own. It must be refused (unless the password happens to be right), and nothing else happen.
import net from 'node:net';
import { decode, encode } from '../../../src/smpp/codec.js';
import { statusName } from '../../../src/smpp/defs.js';
import { Framer } from '../../../src/smpp/framer.js';
import type { Pdu } from '../../../src/smpp/pdu.js';
import { hostileText } from '../random-pdu.js';
import type { FuzzRun } from './esme-session.js';
import { ton } from './field-values.js';
import { ACCOUNT, MAX_PDU, bump, int, pick, waitSocket, withTimeout } from './shared.js';

export async function hostileBind(run: Pick<FuzzRun, 'port' | 's' | 'anomaly'>, rand: () => number, conn: number): Promise<void> {
  const { s, anomaly } = run;
  s.hostileBinds.attempts++;
  const socket = net.connect({ host: '127.0.0.1', port: run.port });
  socket.on('error', () => {});
  try {
    if ((await waitSocket(socket, 'connect', 5_000)) !== 'event') return;
    const framer = new Framer(MAX_PDU);
    const got = new Promise<Pdu | undefined>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        try {
          framer.push(chunk, (buf, start, length) => resolve(decode(Buffer.from(buf.subarray(start, start + length)))));
        } catch {
          resolve(undefined);
        }
      });
      socket.once('close', () => resolve(undefined));
    });
    const systemId = rand() < 0.3 ? ACCOUNT.systemId : hostileText(rand, 15);
    const password = hostileText(rand, 8);
    const command = pick(rand, ['bind_transceiver', 'bind_transmitter', 'bind_receiver'] as const);
    socket.write(
      encode({
        command,
        sequence_number: 7,
        system_id: systemId,
        password,
        system_type: hostileText(rand, 12),
        interface_version: int(rand, 256),
        addr_ton: ton(rand),
        addr_npi: ton(rand),
        address_range: hostileText(rand, 40),
      }),
    );
    const resp = await withTimeout(got, 5_000);
    if (resp === 'timeout' || resp === undefined) anomaly('hostile-bind', conn, `no answer to a bind as ${JSON.stringify(systemId)}`);
    else {
      bump(s.hostileBinds.statuses, statusName(resp.command_status));
      if (resp.command_status === 0 && password !== ACCOUNT.password)
        anomaly('hostile-bind', conn, `bind as ${JSON.stringify(systemId)} with password ${JSON.stringify(password)} accepted`);
    }
  } finally {
    socket.destroy();
  }
}

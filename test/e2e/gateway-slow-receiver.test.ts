// A slow but correct receiver (issue 10, item 1): an ESME that answers every deliver_sm, one at a
// time, each later than the gateway's response timeout. Every OK it gives is late; each must still
// complete its outbox item, so 40 MOs arrive once each and the outbox empties, instead of being
// sent again and again while late OKs are dropped. Real processes: the gateway as a child (its
// response timeout shortened through the environment), the simulator as the carrier.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SmscSimulator } from '../../src/sim/smsc.js';
import { SmppClient } from '../../src/smpp/client.js';
import type { Pdu } from '../../src/smpp/pdu.js';
import { readDb } from '../helpers/db-read.js';
import { cli, startGateway, tempDir } from '../helpers/gateway-process.js';
import { waitFor } from '../helpers/wait.js';

const MOS = 40;
const RESPONSE_TIMEOUT_MS = 150;
/** Each answer comes this long after the previous one: always past the timeout. */
const ANSWER_AFTER_MS = 250;

test('a receiver answering every deliver_sm after the response timeout gets each MO once, and the outbox empties', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const db = `${dir}/gw.db`;
  const sim = new SmscSimulator({ dlrDelayMs: 0, retryDelayMs: 200, maxAttempts: 1_000 });
  await sim.start();
  t.after(() => sim.stop());
  cli(db, 'init');
  cli(db, 'account', 'add', 'slow', '--password', 'slow123', '--window', '10');
  cli(db, 'connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(sim.port), '--system-id', 'gw', '--password', 'pw');
  cli(db, 'route', 'add', 'mo', '--account', 'slow');
  const gw = await startGateway(db, [], { SMPPGW_SMPP__SESSION__RESPONSETIMEOUTMS: String(RESPONSE_TIMEOUT_MS), SMPPGW_SMPP__SESSION__ENQUIRELINKMS: '0' });
  t.after(() => gw.kill());
  await sim.until(() => sim.summary().activeBinds >= 1, 10_000, 'the gateway bound to the carrier');

  // The slow reader: one deliver_sm at a time, each answered OK ANSWER_AFTER_MS after the last.
  const received: string[] = [];
  let line = Promise.resolve();
  const esme = new SmppClient({
    host: '127.0.0.1',
    port: gw.smppPort,
    bind: { command: 'bind_receiver', system_id: 'slow', password: 'slow123' },
    session: { enquireLinkMs: 0 },
    handlers: {
      request: (pdu: Pdu) => {
        if (pdu.command === 'deliver_sm') received.push(pdu.short_message.toString());
        line = line.then(() => new Promise((r) => setTimeout(r, ANSWER_AFTER_MS)));
        return line.then(() => ({}));
      },
    },
  });
  esme.start();
  t.after(() => esme.close(1_000));
  await esme.whenBound();

  const answers = await Promise.all(Array.from({ length: MOS }, (_, i) => sim.sendMo({ from: '4917000001', to: '12345', text: `MO ${i}` })));
  assert.deepEqual(answers, Array(MOS).fill(0), 'the gateway took every MO');
  const outbox = () => readDb(db, (d) => d.prepare('SELECT COUNT(*) FROM outbox').pluck().get() as number);
  await waitFor(() => outbox() === 0, 'the outbox emptied', 60_000);

  assert.equal(received.length, MOS, `each MO once (got ${received.length} deliver_sm)`);
  assert.equal(new Set(received).size, MOS);
  // The timeouts did happen: every OK above was a late one.
  const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
  const timeouts = Number(/^smppgw_outbox_timeouts_total\{account="slow"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
  assert.ok(timeouts >= MOS, `deliver_sm timed out (${timeouts})`);
});

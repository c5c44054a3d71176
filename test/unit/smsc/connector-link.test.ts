// The SMPP carrier link against a real SMPP server on 127.0.0.1: what reaches the carrier, in what
// order (accounts in turn, the priority lane first), and priority_flag as the connector forwards it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/log.js';
import { encode } from '../../../src/smpp/codec.js';
import type { PduOf } from '../../../src/smpp/pdu.js';
import { SmppServer } from '../../../src/smpp/server.js';
import { ConnectorLink } from '../../../src/smsc/connector.js';
import type { Outgoing } from '../../../src/smsc/link.js';
import { connector } from '../../helpers/carrier.js';
import { waitFor } from '../../helpers/wait.js';

async function carrier(t: { after(fn: () => Promise<void>): void }) {
  const got: Array<{ text: string; priority: number; schedule?: string }> = [];
  const server = new SmppServer({
    host: '127.0.0.1',
    port: 0,
    handlers: {
      bind: () => ({ system_id: 'carrier' }),
      request: (pdu) => {
        if (pdu.command !== 'submit_sm') return {};
        const sm = pdu as PduOf<'submit_sm'>;
        got.push({
          text: sm.short_message.toString(),
          priority: sm.priority_flag,
          ...(sm.schedule_delivery_time ? { schedule: sm.schedule_delivery_time } : {}),
        });
        return { message_id: String(got.length) };
      },
    },
  });
  const { port } = await server.listen();
  t.after(() => server.close(1_000));
  return { port, got };
}

let nextId = 1;
function msg(accountId: number, text: string, flag: number, priority: boolean, schedule = ''): Outgoing {
  const pdu = encode({
    command: 'submit_sm',
    sequence_number: 1,
    source_addr: 'S',
    destination_addr: '447700900001',
    priority_flag: flag,
    schedule_delivery_time: schedule,
    short_message: Buffer.from(text),
  });
  return { id: nextId++, accountId, pdu, connectors: ['c'], tried: 0, attempts: 0, expiresAt: Date.now() + 60_000, submittedAt: Date.now(), priority };
}

async function link(t: { after(fn: () => Promise<void>): void }, port: number, forwardPriority: boolean, schedule: 'forward' | 'hold' = 'forward') {
  const results: string[] = [];
  const l = new ConnectorLink({
    config: connector('c', { port, forwardPriority, schedule, window: 1 }),
    clock: systemClock,
    logger: silentLogger,
    hooks: { inbound: async () => ({}), result: (_m, outcome) => void results.push(outcome.kind), state: () => undefined },
  });
  t.after(() => l.stop(1_000));
  return { l, results };
}

test('queued before the bind: accounts in turn, the priority lane first; priority_flag forwarded as sent', async (t) => {
  const { port, got } = await carrier(t);
  const { l, results } = await link(t, port, true);
  for (let i = 0; i < 4; i++) l.enqueue(msg(1, `bulk${i}`, 0, false));
  l.enqueue(msg(2, 'other', 0, false));
  l.enqueue(msg(3, 'otp', 1, true));
  l.enqueue(msg(4, 'flagged', 3, false)); // a flag its account is not granted: normal lane, flag forwarded
  l.start();
  await waitFor(() => results.length === 7, 'seven answers');
  assert.deepEqual(
    got.map((g) => g.text),
    ['otp', 'bulk0', 'other', 'flagged', 'bulk1', 'bulk2', 'bulk3'],
  );
  assert.deepEqual(
    got.map((g) => g.priority),
    [1, 0, 0, 3, 0, 0, 0],
  );
});

test('--forward-priority no: the carrier sees priority_flag 0; the lane still counts', async (t) => {
  const { port, got } = await carrier(t);
  const { l, results } = await link(t, port, false);
  l.enqueue(msg(1, 'bulk', 0, false));
  l.enqueue(msg(2, 'otp', 2, true));
  l.start();
  await waitFor(() => results.length === 2, 'two answers');
  assert.deepEqual(got, [
    { text: 'otp', priority: 0 },
    { text: 'bulk', priority: 0 },
  ]);
});

test('--schedule hold: the carrier gets no schedule_delivery_time (the gateway held it); forward: as sent', async (t) => {
  const { port, got } = await carrier(t);
  const held = await link(t, port, true, 'hold');
  held.l.enqueue(msg(1, 'held', 0, false, '000000001000000R'));
  held.l.start();
  await waitFor(() => held.results.length === 1, 'one answer');
  const forwarded = await link(t, port, true, 'forward');
  forwarded.l.enqueue(msg(1, 'forwarded', 0, false, '000000001000000R'));
  forwarded.l.start();
  await waitFor(() => forwarded.results.length === 1, 'one answer');
  assert.deepEqual(got, [
    { text: 'held', priority: 0 },
    { text: 'forwarded', priority: 0, schedule: '000000001000000R' },
  ]);
});

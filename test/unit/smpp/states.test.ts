// The session's transition table (states.ts): every state × every event, written out here on its
// own so a change to the table shows up as a change to this test. '-' is a refusal (the session
// ignores the event, or answers the peer's unbind with ESME_RINVBNDSTS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SESSION_STATES, transition, type BindCommand, type SessionEvent, type SessionEventType, type SessionState } from '../../../src/smpp/states.js';

const STATES = ['open', 'binding', 'bound_tx', 'bound_rx', 'bound_trx', 'unbinding', 'closed'] as const;

// Columns in the order of STATES. bind_accepted is listed per bind command.
type Row = readonly [string, string, string, string, string, string, string];
const EXPECTED: Record<string, Row> = {
  bind_sent: ['binding', '-', '-', '-', '-', '-', '-'],
  bind_received: ['binding', '-', '-', '-', '-', '-', '-'],
  'bind_accepted bind_transmitter': ['-', 'bound_tx', '-', '-', '-', 'unbinding', '-'],
  'bind_accepted bind_receiver': ['-', 'bound_rx', '-', '-', '-', 'unbinding', '-'],
  'bind_accepted bind_transceiver': ['-', 'bound_trx', '-', '-', '-', 'unbinding', '-'],
  bind_refused: ['-', 'open', '-', '-', '-', 'unbinding', '-'],
  unbind_received: ['-', '-', 'unbinding', 'unbinding', 'unbinding', 'unbinding', '-'],
  close_requested: ['unbinding', 'unbinding', 'unbinding', 'unbinding', 'unbinding', 'unbinding', '-'],
  peer_ended: ['open', 'binding', 'bound_tx', 'bound_rx', 'bound_trx', 'unbinding', '-'],
  framing_lost: ['open', 'binding', 'bound_tx', 'bound_rx', 'bound_trx', 'unbinding', '-'],
  link_idle: ['open', 'binding', 'bound_tx', 'bound_rx', 'bound_trx', 'unbinding', '-'],
  enquire_link_timeout: ['closed', 'closed', 'closed', 'closed', 'closed', 'closed', '-'],
  response_timeout: ['open', 'binding', 'bound_tx', 'bound_rx', 'bound_trx', 'unbinding', '-'],
  bind_timeout: ['closed', 'closed', '-', '-', '-', 'closed', '-'],
  destroyed: ['closed', 'closed', 'closed', 'closed', 'closed', 'closed', '-'],
  socket_closed: ['closed', 'closed', 'closed', 'closed', 'closed', 'closed', '-'],
};

// A record, not a list: a new event type that is missing here does not compile.
const EVENT_TYPES: Record<SessionEventType, true> = {
  bind_sent: true,
  bind_received: true,
  bind_accepted: true,
  bind_refused: true,
  unbind_received: true,
  close_requested: true,
  peer_ended: true,
  framing_lost: true,
  link_idle: true,
  enquire_link_timeout: true,
  response_timeout: true,
  bind_timeout: true,
  destroyed: true,
  socket_closed: true,
};

function eventOf(key: string): SessionEvent {
  const [type, command] = key.split(' ') as [SessionEventType, BindCommand | undefined];
  return type === 'bind_accepted' ? { type, command: command! } : { type: type as Exclude<SessionEventType, 'bind_accepted'> };
}

test('every state × every event: the transition or the refusal', () => {
  assert.deepEqual([...SESSION_STATES], [...STATES]);
  let checked = 0;
  for (const [key, row] of Object.entries(EXPECTED)) {
    const event = eventOf(key);
    STATES.forEach((state, i) => {
      const got = transition(state, event) ?? '-';
      assert.equal(got, row[i], `${state} × ${key}`);
      checked++;
    });
  }
  assert.equal(checked, Object.keys(EXPECTED).length * STATES.length);
  // The expected table names every event type there is.
  assert.deepEqual([...new Set(Object.keys(EXPECTED).map((k) => k.split(' ')[0]))].sort(), Object.keys(EVENT_TYPES).sort());
});

test('closed is final: every event is refused there', () => {
  for (const key of Object.keys(EXPECTED)) assert.equal(transition('closed', eventOf(key)), undefined, key);
});

test('the only ways into a bound state are bind_accepted from binding, and out of it unbind, close or the end', () => {
  const bound: SessionState[] = ['bound_tx', 'bound_rx', 'bound_trx'];
  for (const key of Object.keys(EXPECTED)) {
    for (const from of STATES) {
      const to = transition(from, eventOf(key));
      if (to === undefined || to === from) continue;
      if (bound.includes(to)) assert.deepEqual([from, key.split(' ')[0]], ['binding', 'bind_accepted'], `${from} × ${key} → ${to}`);
      if (bound.includes(from)) assert.ok(to === 'unbinding' || to === 'closed', `${from} × ${key} → ${to}`);
    }
  }
});

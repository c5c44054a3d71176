// The SMPP 3.4 session state machine (§2.2, §2.3): which requests each side may send in which state,
// and the transitions: which event leads from which state to which (Session.apply follows them).
import type { CommandName } from './pdu.js';

/** `smsc`: we accepted the connection and take binds. `esme`: we connected and bind. */
export type SessionRole = 'smsc' | 'esme';

export const SESSION_STATES = ['open', 'binding', 'bound_tx', 'bound_rx', 'bound_trx', 'unbinding', 'closed'] as const;

export type SessionState = (typeof SESSION_STATES)[number];

export type BindCommand = 'bind_transmitter' | 'bind_receiver' | 'bind_transceiver';

export const BIND_STATE: Readonly<Record<BindCommand, SessionState>> = {
  bind_transmitter: 'bound_tx',
  bind_receiver: 'bound_rx',
  bind_transceiver: 'bound_trx',
};

export function isBindCommand(c: string): c is BindCommand {
  return c === 'bind_transmitter' || c === 'bind_receiver' || c === 'bind_transceiver';
}

export function isBound(s: SessionState): boolean {
  return s === 'bound_tx' || s === 'bound_rx' || s === 'bound_trx';
}

const BOUND: SessionState[] = ['bound_tx', 'bound_rx', 'bound_trx'];
const TX: SessionState[] = ['bound_tx', 'bound_trx'];
const RX: SessionState[] = ['bound_rx', 'bound_trx'];

/** Requests an ESME may send to an SMSC, and the states (of the session) in which it may. */
const ESME_SENDS: Partial<Record<CommandName, SessionState[]>> = {
  bind_transmitter: ['open'],
  bind_receiver: ['open'],
  bind_transceiver: ['open'],
  unbind: BOUND,
  enquire_link: [...BOUND, 'open', 'binding', 'unbinding'],
  submit_sm: TX,
  submit_multi: TX,
  data_sm: TX,
  query_sm: TX,
  cancel_sm: TX,
  replace_sm: TX,
  broadcast_sm: TX,
  query_broadcast_sm: TX,
  cancel_broadcast_sm: TX,
};

/** Requests an SMSC may send to an ESME, and the states in which it may. */
const SMSC_SENDS: Partial<Record<CommandName, SessionState[]>> = {
  outbind: ['open'],
  unbind: BOUND,
  enquire_link: [...BOUND, 'open', 'binding', 'unbinding'],
  deliver_sm: RX,
  data_sm: RX,
  alert_notification: RX,
};

const SENDS: Record<SessionRole, Partial<Record<CommandName, SessionState[]>>> = { esme: ESME_SENDS, smsc: SMSC_SENDS };
const PEER: Record<SessionRole, SessionRole> = { esme: 'smsc', smsc: 'esme' };

/** May a session in `role` send request `command` in `state`? */
export function maySend(role: SessionRole, command: CommandName, state: SessionState): boolean {
  return SENDS[role][command]?.includes(state) ?? false;
}

/**
 * Is `command` a request the peer of a `role` session may send at all (in some state)?
 * False means the command goes the wrong way on this link.
 */
export function peerSends(role: SessionRole, command: CommandName): boolean {
  return SENDS[PEER[role]][command] !== undefined;
}

/** May the peer of a `role` session send request `command` while this session is in `state`? */
export function mayReceive(role: SessionRole, command: CommandName, state: SessionState): boolean {
  return maySend(PEER[role], command, state);
}

// ---- transitions ---------------------------------------------------------------------------------
// The session's parts report what happened (an event); Session.apply looks the event up here and
// is the only code that changes the state. An event with no entry for the current state is refused
// (the session ignores it, or answers the peer's request with ESME_RINVBNDSTS).

/**
 * What happens to a session, and who reports it:
 * - `bind_sent` (Session.bind, ESME side): our bind is on its way.
 * - `bind_received` (Responder, SMSC side): the peer's bind goes to the bind handler.
 * - `bind_accepted` (Outbound on a bind_resp OK, ESME side; Responder once an accepting bind_resp
 *   is queued, SMSC side).
 * - `bind_refused` (Outbound on an error bind_resp; Session.bind when the bind got no answer;
 *   Responder when the handler refused or failed).
 * - `unbind_received` (Session, from the Reader): the peer's unbind request.
 * - `close_requested` (Session.close): the orderly close begins.
 * - `peer_ended` (the socket's 'end'): the peer half-closed; it will send nothing more.
 * - `framing_lost` (Reader): the byte stream cannot be split into PDUs any more.
 * - `link_idle` (LinkTimers): the peer has been silent for the enquire_link interval.
 * - `enquire_link_timeout` (Outbound): an enquire_link got no answer: the peer is dead.
 * - `response_timeout` (Outbound): another request got no answer in time.
 * - `bind_timeout` (LinkTimers, SMSC side): the connection was not bound in time.
 * - `destroyed` (Session.destroy) and `socket_closed` (the socket's 'close'): the session is over.
 */
export type SessionEventType =
  | 'bind_sent'
  | 'bind_received'
  | 'bind_accepted'
  | 'bind_refused'
  | 'unbind_received'
  | 'close_requested'
  | 'peer_ended'
  | 'framing_lost'
  | 'link_idle'
  | 'enquire_link_timeout'
  | 'response_timeout'
  | 'bind_timeout'
  | 'destroyed'
  | 'socket_closed';

export type SessionEvent =
  /** `systemId`: SMSC side, the one the peer bound with (ESME side the session knows its own). */
  | { type: 'bind_accepted'; command: BindCommand; systemId?: string }
  /** `reason`: why the session ends, for an event that ends it (the first reason given is kept). */
  | { type: Exclude<SessionEventType, 'bind_accepted'>; reason?: string };

/** Where an event leads: a state, `same` (allowed, no change), or `bound` (the bind's own state). */
type Target = SessionState | 'same' | 'bound';

const LIVE: SessionState[] = SESSION_STATES.filter((s) => s !== 'closed');
const every = (states: SessionState[], to: Target): Partial<Record<SessionState, Target>> => Object.fromEntries(states.map((s) => [s, to]));

const TRANSITIONS: Readonly<Record<SessionEventType, Partial<Record<SessionState, Target>>>> = {
  bind_sent: { open: 'binding' },
  bind_received: { open: 'binding' },
  // While closing, a bind the peer accepted leaves us unbinding (close() then unbinds).
  bind_accepted: { binding: 'bound', unbinding: 'same' },
  bind_refused: { binding: 'open', unbinding: 'same' },
  // Unbind is only for a bound session (SMPP 3.4 §4.2); a repeat while unbinding is answered too.
  unbind_received: { ...every(BOUND, 'unbinding'), unbinding: 'same' },
  close_requested: every(LIVE, 'unbinding'),
  // The close that follows moves it to unbinding.
  peer_ended: every(LIVE, 'same'),
  // The connection ends once the generic_nack is out; its 'close' ends the session.
  framing_lost: every(LIVE, 'same'),
  link_idle: every(LIVE, 'same'),
  enquire_link_timeout: every(LIVE, 'closed'),
  response_timeout: every(LIVE, 'same'),
  // A bound session has no bind timeout; one never bound is dropped even while closing.
  bind_timeout: { open: 'closed', binding: 'closed', unbinding: 'closed' },
  destroyed: every(LIVE, 'closed'),
  socket_closed: every(LIVE, 'closed'),
};

/** The state `event` leads to from `state`, or undefined when the event is refused there. */
export function transition(state: SessionState, event: SessionEvent): SessionState | undefined {
  const to = TRANSITIONS[event.type][state];
  if (to === undefined) return undefined;
  if (to === 'same') return state;
  if (to === 'bound') return BIND_STATE[(event as Extract<SessionEvent, { type: 'bind_accepted' }>).command];
  return to;
}

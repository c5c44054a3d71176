// The SMPP 3.4 session state machine (§2.2, §2.3): which requests each side may send in which state.
import type { CommandName } from './pdu.js';

/** `smsc`: we accepted the connection and take binds. `esme`: we connected and bind. */
export type SessionRole = 'smsc' | 'esme';

export type SessionState = 'open' | 'binding' | 'bound_tx' | 'bound_rx' | 'bound_trx' | 'unbinding' | 'closed';

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

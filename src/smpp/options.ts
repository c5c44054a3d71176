// What a Session is built with, and the defaults.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Pdu } from './pdu.js';
import type { SessionHandlers } from './responder.js';
import type { SessionRole } from './states.js';

export interface SessionOptions {
  role: SessionRole;
  handlers?: SessionHandlers;
  /** Outstanding requests we send before waiting for a response (default 10). */
  window?: number;
  /** Requests from the peer being handled at once; more are answered ESME_RMSGQFUL (default 100). */
  inboundWindow?: number;
  /** A request without a response after this long is rejected (default 10 s). */
  responseTimeoutMs?: number;
  /** Silence after which we send enquire_link (default 30 s; 0 turns it off). */
  enquireLinkMs?: number;
  /** SMSC side: a connection not bound after this long is closed (default 30 s; 0 turns it off). */
  bindTimeoutMs?: number;
  /** Largest PDU accepted (default 64 KiB). */
  maxPduSize?: number;
  /** Unsent bytes above which sending waits and reading pauses (default 1 MiB). */
  writeHighWaterMark?: number;
  /** Sequence number of our first request (default 1). For tests of the wrap at 0x7FFFFFFF. */
  firstSequence?: number;
  clock?: Clock;
  logger?: Logger;
  /** A name for logs. */
  id?: string;
}

export const SESSION_DEFAULTS = {
  window: 10,
  inboundWindow: 100,
  responseTimeoutMs: 10_000,
  enquireLinkMs: 30_000,
  bindTimeoutMs: 30_000,
  writeHighWaterMark: 1024 * 1024,
} as const;

/**
 * For a request whose answer still matters after its timeout: `handle` gets a response that comes
 * up to `ms` after the timeout, or undefined when none came by then or the session ended.
 */
export interface LateResponse {
  ms: number;
  handle(pdu: Pdu | undefined): void;
}

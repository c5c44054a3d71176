// A message of several parts has one state for its account: what its parts' states add up to.
import { MessageState, isFinal } from '../smpp/message-state.js';

/**
 * The state of a message from its parts' states, in part order: queued while no part has left,
 * on its way while any part is not final, delivered when every part was, and otherwise the first
 * part's failure (undelivered, expired, rejected, deleted: the reason the text is not whole).
 */
export function messageState(parts: readonly number[]): number {
  if (parts.length === 0) throw new RangeError('a message has at least one part');
  if (parts.length === 1) return parts[0]!;
  if (parts.every((s) => s === MessageState.QUEUED)) return MessageState.QUEUED;
  if (!parts.every(isFinal)) return MessageState.ENROUTE;
  return parts.find((s) => s !== MessageState.DELIVERED) ?? MessageState.DELIVERED;
}

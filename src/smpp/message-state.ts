// message_state values (SMPP 3.4 §5.2.28): what the ledger records of a message and what a
// receipt reports; shared by the store, the carrier side and the receipt code.

/** 0 is our own "queued here". */
export const MessageState = {
  QUEUED: 0,
  ENROUTE: 1,
  DELIVERED: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIVERABLE: 5,
  ACCEPTED: 6,
  UNKNOWN: 7,
  REJECTED: 8,
} as const;
export type MessageStateValue = (typeof MessageState)[keyof typeof MessageState];

/** A final state ends a message's life; ENROUTE (and our QUEUED) do not. */
export function isFinal(state: number): boolean {
  return state >= 2 && state <= 8;
}

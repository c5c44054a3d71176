// Constants and small helpers every part of the gateway fuzzer uses: numbers, maps, timing, and the
// socket waits and PDUs both kinds of ESME connection (fuzzing and final check) share.
import type net from 'node:net';
import { encode } from '../../../src/smpp/codec.js';
import { TLVS } from '../../../src/smpp/defs.js';
import type { Pdu, PduInput, PduOf } from '../../../src/smpp/pdu.js';

export { bump, waitSocket, yieldTurn } from '../fuzzer.js';

export const MB = 1024 * 1024;
/** The protocol's largest PDU (command_length 65,536). */
export const MAX_PDU = 64 * 1024;
/** The ESME account every fuzzing connection binds as. */
export const ACCOUNT = { systemId: 'fuzz', password: 'fuzzpw' };
export const PAYLOAD = TLVS.get('message_payload')!.tag;
export const RECEIPTED_ID = TLVS.get('receipted_message_id')!.tag;
export const MESSAGE_STATE = TLVS.get('message_state')!.tag;
export const NETWORK_ERROR = TLVS.get('network_error_code')!.tag;

export const int = (rand: () => number, n: number): number => Math.floor(rand() * n);
export const pick = <T>(rand: () => number, list: readonly T[]): T => list[int(rand, list.length)]!;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const mb = (bytes: number): number => +(bytes / MB).toFixed(1);

/** `promise`, or 'timeout' if it has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([promise, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))]);
  clearTimeout(timer);
  return result;
}

/** A bind as the fuzz account, with its true credentials. */
export function accountBind(command: 'bind_transceiver' | 'bind_transmitter' | 'bind_receiver'): PduInput {
  return { command, sequence_number: 1, system_id: ACCOUNT.systemId, password: ACCOUNT.password, interface_version: 0x34 };
}

/** The receipted_message_id TLV of a deliver_sm, without its NUL; undefined when there is none. */
export function receiptedId(pdu: PduOf<'deliver_sm'>): string | undefined {
  return pdu.tlvs
    ?.find((t) => t.tag === RECEIPTED_ID)
    ?.value.toString('latin1')
    .replace(/\0$/, '');
}

/** enquire_link and unbind from the gateway get their plain response; false for anything else. */
export function answerLinkRequest(socket: net.Socket, pdu: Pdu): boolean {
  if (pdu.command !== 'enquire_link' && pdu.command !== 'unbind') return false;
  socket.write(encode({ command: `${pdu.command}_resp`, sequence_number: pdu.sequence_number }));
  return true;
}

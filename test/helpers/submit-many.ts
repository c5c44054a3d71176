// Sends many submit_sm asking for receipts over one bound session, a fixed number in flight.
import assert from 'node:assert/strict';
import type { Session } from '../../src/smpp/session.js';

/**
 * Sends `n` submit_sm (to 4917000000 + i, text `${tag} ${i}`, registered_delivery 1), `inFlight`
 * at a time; each must be acked OK. Resolves with the gateway's message ids, in message order.
 */
export async function submitMany(session: Session, n: number, tag: string, inFlight: number): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const resp = await session.request({
        command: 'submit_sm',
        source_addr: 'SHOP',
        destination_addr: String(4917000000 + i),
        registered_delivery: 1,
        short_message: Buffer.from(`${tag} ${i}`),
      });
      assert.equal(resp.command_status, 0);
      ids[i] = resp.message_id;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return ids;
}

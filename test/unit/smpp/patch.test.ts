// registeredDeliveryOffset: finds registered_delivery in any encoded submit_sm, whatever its
// variable-length fields hold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../../src/sim/util.js';
import { decode, encode } from '../../../src/smpp/codec.js';
import type { PduOf } from '../../../src/smpp/pdu.js';
import { registeredDeliveryOffset } from '../../../src/smpp/patch.js';
import { randomPdu } from '../../helpers/random-pdu.js';

test('the byte at the offset is registered_delivery, for 2,000 random submit_sm', () => {
  const rand = seededRandom(7);
  for (let i = 0; i < 2_000; i++) {
    const bytes = encode(randomPdu(rand, 'submit_sm'));
    const at = registeredDeliveryOffset(bytes);
    const before = decode(bytes) as PduOf<'submit_sm'>;
    assert.equal(bytes[at], before.registered_delivery);
    bytes[at] = before.registered_delivery ^ 0x1f;
    const after = decode(bytes) as PduOf<'submit_sm'>;
    assert.equal(after.registered_delivery, before.registered_delivery ^ 0x1f);
    assert.deepEqual({ ...after, registered_delivery: 0 }, { ...before, registered_delivery: 0 }, 'nothing else changed');
  }
});

test('a buffer without the fields throws instead of pointing past its end', () => {
  const bytes = encode(randomPdu(seededRandom(1), 'submit_sm'));
  assert.throws(() => registeredDeliveryOffset(bytes.subarray(0, 20)), RangeError);
});

// RateMeter: events per second per name over the last whole seconds, on an injected clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateMeter } from '../../../src/rate/meter.js';
import { ManualClock } from '../../helpers/clock.js';

test('rates average the last nine whole seconds; the current second and older ones do not count', () => {
  const clock = new ManualClock();
  const meter = new RateMeter(clock);
  for (let i = 0; i < 90; i++) meter.mark('acme');
  meter.mark('sim', 9);
  assert.deepEqual(meter.rates(), { acme: 0, sim: 0 }, 'still in the current second');
  clock.advance(1_000);
  assert.deepEqual(meter.rates(), { acme: 10, sim: 1 });
  clock.advance(8_000);
  assert.deepEqual(meter.rates(), { acme: 10, sim: 1 }, 'nine seconds back still counts');
  clock.advance(1_000);
  assert.deepEqual(meter.rates(), { acme: 0, sim: 0 }, 'ten seconds back does not');
  meter.mark('acme', 18);
  clock.advance(60_000);
  assert.deepEqual(meter.rates(), { acme: 0, sim: 0 }, 'a long pause clears every slot');
  meter.forget('sim');
  assert.deepEqual(Object.keys(meter.rates()), ['acme']);
});

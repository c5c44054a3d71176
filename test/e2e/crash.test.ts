// Crash safety (issue "Reliability", item 1), CI-sized: the gateway is SIGKILLed several times while
// an ESME submits with receipts; nothing it acked is lost, and every acked message's receipt arrives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crashRun } from '../helpers/crash-run.js';

test('SIGKILL at random moments: no acked message lost, every receipt delivered', { timeout: 60_000 }, async (t) => {
  const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const s = await crashRun({ kills: 4, messages: 600, seed, rate: 150, window: 20, drainMs: 20_000, progress: (l) => t.diagnostic(l) });
  t.diagnostic(`summary ${JSON.stringify(s)}`);
  t.diagnostic(`duplicates to the carrier: ${s.duplicatesToSmsc} (${s.duplicateRatePct} %), duplicate receipts at the ESME: ${s.duplicateReceiptsAtEsme}`);
  assert.ok(s.kills >= 3, `killed ${s.kills} times`);
  assert.ok(s.acked > 0, 'some messages were acked');
  assert.equal(s.lost, 0, `acked messages that never reached the carrier (seed ${seed}): ${JSON.stringify(s.lostExamples)}`);
  assert.equal(s.receiptsMissing, 0, `acked messages without a receipt at the ESME (seed ${seed}): ${JSON.stringify(s.missingReceiptExamples)}`);
});

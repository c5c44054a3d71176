// What the gateway acknowledged, as the fuzzing ESMEs saw it: the message ids it gave (each must be
// in its ledger at the end), recent ones for query_sm, cancel_sm and replace_sm to aim at, ids a
// replace_sm aimed at (no longer stored as sent), receipts for ids not yet seen, and a reservoir
// sample of accepted messages to compare with what the gateway stored.
import type { MessageIds } from '../../../src/messages/ids.js';
import type { PduOf } from '../../../src/smpp/pdu.js';
import { rowOf } from '../message-ids.js';
import { RecentIds } from './requests.js';

/** An accepted submit_sm or data_sm and the message as the ledger must hold it. */
export interface StoredSample {
  id: number;
  expect: PduOf<'submit_sm'>;
}

const SAMPLE_MAX = 3_000;

export class Ledger {
  readonly acknowledged = new Set<number>();
  readonly recent = new RecentIds();
  readonly replaced = new Set<number>();
  readonly samples: StoredSample[] = [];
  /** Receipts whose id was not (yet) acknowledged when they came. */
  private readonly unmatched = new Set<number>();
  private sampleSeen = 0;

  /** The gateway's ids, read from its database once it started. */
  ids: MessageIds | undefined;

  /** `rand` draws the reservoir sample only. */
  constructor(private readonly rand: () => number) {}

  /** The ledger row of an id the gateway gave (NaN for none). */
  rowOf(messageId: string): number {
    return this.ids ? rowOf(this.ids, messageId) : Number.NaN;
  }

  /** A submit_sm or data_sm answered OK with `messageId` (`id` its value); `expect` when it was sampled. */
  acknowledge(id: number, messageId: string, expect: PduOf<'submit_sm'> | undefined): void {
    this.acknowledged.add(id);
    this.recent.add(messageId);
    if (expect === undefined) return;
    this.sampleSeen++;
    if (this.samples.length < SAMPLE_MAX) this.samples.push({ id, expect });
    else {
      const j = Math.floor(this.rand() * this.sampleSeen);
      if (j < SAMPLE_MAX) this.samples[j] = { id, expect };
    }
  }

  /** A submit_multi answered OK: one ledger row per accepted destination, inserted in one go, so consecutive ids. */
  acknowledgeMulti(messageId: string, accepted: number): void {
    const first = this.rowOf(messageId);
    for (let k = 0; k < accepted; k++) this.acknowledged.add(first + k);
    this.recent.add(messageId);
  }

  /** A replace_sm aimed at `target`: its answer may be lost with the connection, so a message ever aimed at is not sampled. */
  aimedAt(target: string): void {
    const id = this.rowOf(target);
    if (Number.isSafeInteger(id)) this.replaced.add(id);
  }

  /** A receipt for `id`: true when its id is acknowledged; else kept, as its response may still be on its way on another connection. */
  receipt(id: number): boolean {
    if (this.acknowledged.has(id)) return true;
    if (this.unmatched.size < 1_000_000) this.unmatched.add(id);
    return false;
  }

  /** At the end: the receipts kept, matched against every id acknowledged by then, and those never acknowledged. */
  lateReceipts(): { matched: number; unknown: number } {
    let matched = 0;
    let unknown = 0;
    for (const id of this.unmatched) {
      if (this.acknowledged.has(id)) matched++;
      else unknown++;
    }
    return { matched, unknown };
  }
}

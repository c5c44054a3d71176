// Per-name rates over the last few seconds (messages accepted per account, sent per connector) for
// `smppgw status`: counts in one-second slots, so marking costs a map lookup and an increment.
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';

const SLOTS = 10;

export class RateMeter {
  private readonly counts = new Map<string, Float64Array>();
  private slot = -1;

  constructor(private readonly clock: Clock = systemClock) {}

  /** Counts `n` events for `name` now. */
  mark(name: string, n = 1): void {
    this.advance();
    let c = this.counts.get(name);
    if (!c) this.counts.set(name, (c = new Float64Array(SLOTS)));
    c[this.slot % SLOTS]! += n;
  }

  /** Events per second per name over the last SLOTS - 1 whole seconds (the current one is partial). */
  rates(): Record<string, number> {
    this.advance();
    const out: Record<string, number> = {};
    for (const [name, c] of this.counts) {
      let sum = 0;
      for (let k = 1; k < SLOTS; k++) sum += c[(this.slot - k + SLOTS * 2) % SLOTS]!;
      out[name] = Math.round((sum / (SLOTS - 1)) * 10) / 10;
    }
    return out;
  }

  /** Forgets a name (a removed account or connector). */
  forget(name: string): void {
    this.counts.delete(name);
  }

  /** Clears the slots the clock has moved past since the last call. */
  private advance(): void {
    const now = Math.floor(this.clock.now() / 1000);
    if (now === this.slot) return;
    const passed = this.slot < 0 ? SLOTS : Math.min(SLOTS, now - this.slot);
    for (const c of this.counts.values()) for (let k = 1; k <= passed; k++) c[(now - passed + k) % SLOTS] = 0;
    this.slot = now;
  }
}

// Time as a dependency (as MQTT.js injects its timers): production uses the system clock, tests a
// manual one they advance, so no test needs to sleep.

export type TimerHandle = { readonly __timer: unique symbol } | NodeJS.Timeout;

export interface Clock {
  /** Milliseconds on a monotonic scale (not wall-clock time). */
  now(): number;
  /** Milliseconds since the epoch (wall-clock time: what the ledger stores and validity is counted in). */
  wallNow(): number;
  /** Runs `fn` once after `ms`. The timer never keeps the process alive on its own. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

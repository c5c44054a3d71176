// Waiting, during an orderly close, for the session to go quiet: no request of ours awaiting its
// response and no request of the peer's being handled. The session calls check() whenever either
// count may have dropped to zero.
import type { Clock, TimerHandle } from '../clock.js';

export class IdleWatch {
  private resolveIdle: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly isIdle: () => boolean,
  ) {}

  /** Resolves true once idle, false if `ms` passes first. */
  wait(ms: number): Promise<boolean> {
    if (this.isIdle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined = this.clock.setTimeout(() => {
        timer = undefined;
        this.resolveIdle = undefined;
        resolve(false);
      }, ms);
      this.resolveIdle = () => {
        if (timer !== undefined) this.clock.clearTimeout(timer);
        this.resolveIdle = undefined;
        resolve(true);
      };
    });
  }

  check(): void {
    if (this.resolveIdle !== undefined && this.isIdle()) this.resolveIdle();
  }

  /** The session is over: a waiter goes on (with nothing left to wait for). */
  release(): void {
    this.resolveIdle?.();
  }
}

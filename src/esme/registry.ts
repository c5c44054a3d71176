// Who is bound: sessions by account (its internal id, so a re-created account never shares the
// old one's receivers), so receipts and MOs find a receiver (round-robin) and max binds can be
// enforced.
import type { Session } from '../smpp/session.js';

export class BindRegistry {
  private readonly byAccount = new Map<number, Session[]>();
  private readonly cursor = new Map<number, number>();

  constructor(private readonly onReceiverBound: (account: number) => void = () => {}) {}

  count(account: number): number {
    return this.byAccount.get(account)?.length ?? 0;
  }

  add(account: number, session: Session): void {
    const list = this.byAccount.get(account) ?? [];
    list.push(session);
    this.byAccount.set(account, list);
  }

  remove(account: number, session: Session): void {
    const list = this.byAccount.get(account);
    if (!list) return;
    const i = list.indexOf(session);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byAccount.delete(account);
  }

  /** Tells the outbox that `session` can now take deliver_sm. */
  bound(account: number, session: Session): void {
    if (session.state === 'bound_rx' || session.state === 'bound_trx') this.onReceiverBound(account);
  }

  /** A receiving session of the account that can take a request now, round-robin; undefined if none. */
  nextReceiver(account: number, accepts: (s: Session) => boolean = () => true): Session | undefined {
    const list = this.byAccount.get(account);
    if (!list) return undefined;
    const start = this.cursor.get(account) ?? 0;
    for (let k = 0; k < list.length; k++) {
      const i = (start + k) % list.length;
      const s = list[i]!;
      if ((s.state === 'bound_rx' || s.state === 'bound_trx') && s.canSend && accepts(s)) {
        this.cursor.set(account, i + 1);
        return s;
      }
    }
    return undefined;
  }

  /** Bound sessions, for status: account (named by `name`) → bind states. */
  snapshot(name: (account: number) => string): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [account, list] of this.byAccount) out[name(account)] = list.map((s) => s.state);
    return out;
  }

  /** The sessions of one account. */
  sessions(account: number): readonly Session[] {
    return this.byAccount.get(account) ?? [];
  }

  /** Accounts with a bound session. */
  accounts(): number[] {
    return [...this.byAccount.keys()];
  }

  all(): Session[] {
    return [...this.byAccount.values()].flat();
  }
}

// Bind checks, in order, each with its own status and log line: known and enabled account,
// allowed address, allowed bind type, password, max binds.
import type { Logger } from '../log.js';
import { Status, type StatusName } from '../smpp/defs.js';
import type { BindPdu, ResponseInit, Session } from '../smpp/session.js';
import type { Account, BindType } from '../store/accounts.js';
import { VerifiedPasswords, addressFilter } from '../store/credentials.js';
import type { BindLockout } from './lockout.js';
import type { BindRegistry } from './registry.js';

const BIND_TYPE: Record<BindPdu['command'], BindType> = { bind_transmitter: 'tx', bind_receiver: 'rx', bind_transceiver: 'trx' };

/** What the gateway keeps on an ESME session (session.context). */
export interface EsmeContext {
  /** The account's internal id (look the account up afresh by it: the operator may change it). */
  accountId: number;
  /** Its system_id, for logs and metrics. */
  systemId: string;
  /** submit_sm being handled on this session (the account's window). */
  open: number;
}

export function esmeContext(session: Session): EsmeContext | undefined {
  return session.context as EsmeContext | undefined;
}

export class EsmeAuth {
  private accounts = new Map<string, { account: Account; allowed: (address: string) => boolean }>();
  private byId = new Map<number, Account>();
  /** System ids of accounts seen since start, for naming metrics and logs after removal. */
  private readonly names = new Map<number, string>();
  private readonly passwords = new VerifiedPasswords();

  constructor(
    private readonly registry: BindRegistry,
    private readonly log: Logger,
    private readonly lockout?: BindLockout,
  ) {}

  /**
   * Takes a fresh copy of the live accounts; returns the ids of accounts that were live and are
   * not any more (removed, or removed and re-created under the same system_id): their sessions are
   * closed here, and what is held of them elsewhere is the caller's to drop.
   */
  load(accounts: readonly Account[]): number[] {
    const before = this.byId;
    this.accounts = new Map(accounts.map((a) => [a.systemId, { account: a, allowed: addressFilter(a.allow) }]));
    this.byId = new Map(accounts.map((a) => [a.id, a]));
    for (const a of accounts) this.names.set(a.id, a.systemId);
    const gone = [...before.keys()].filter((id) => !this.byId.has(id));
    for (const id of gone) {
      for (const session of [...this.registry.sessions(id)]) {
        this.log.warn({ systemId: this.name(id), session: session.id }, 'account removed; its session is closed');
        void session.close('account removed', 2_000);
      }
    }
    return gone;
  }

  /** The live accounts. */
  live(): Account[] {
    return [...this.byId.values()];
  }

  /** A live account by system_id (binds, routes). */
  bySystemId(systemId: string): Account | undefined {
    return this.accounts.get(systemId)?.account;
  }

  /** A live account by internal id; undefined once removed. */
  account(id: number): Account | undefined {
    return this.byId.get(id);
  }

  /** An account's system_id for logs and metrics (`#<id>` for one removed before this start). */
  name(id: number): string {
    return this.names.get(id) ?? `#${id}`;
  }

  async authenticate(pdu: BindPdu, session: Session): Promise<ResponseInit> {
    const entry = this.accounts.get(pdu.system_id);
    const remote = session.socket.remoteAddress ?? '';
    const refuse = (status: StatusName, why: string, guess = false): ResponseInit => {
      this.log.warn({ systemId: pdu.system_id, remote, why }, 'bind refused');
      // Only guesses count towards a lockout (not max binds or an allow-list miss).
      if (guess) this.lockout?.failed(remote, pdu.system_id);
      return { command_status: Status[status] };
    };
    const locked = this.lockout?.locked(remote, pdu.system_id);
    if (locked) {
      // No password check while locked out: a guesser learns nothing.
      this.log.warn(
        { systemId: pdu.system_id, remote, why: locked === 'ip' ? 'address locked out' : 'system_id locked out from this address' },
        'bind refused',
      );
      return { command_status: Status.ESME_RBINDFAIL };
    }
    if (!entry?.account.enabled) return refuse('ESME_RINVSYSID', entry ? 'account disabled' : 'no such account', true);
    const { account } = entry;
    if (!entry.allowed(remote)) return refuse('ESME_RBINDFAIL', 'address not in the account allow-list');
    if (!account.bindTypes.includes(BIND_TYPE[pdu.command])) return refuse('ESME_RBINDFAIL', `bind type ${BIND_TYPE[pdu.command]} not allowed`);
    if (!(await this.passwords.verify(account.systemId, pdu.password, account.passwordHash))) return refuse('ESME_RINVPASWD', 'wrong password', true);
    if (this.registry.count(account.id) >= account.maxBinds) return refuse('ESME_RBINDFAIL', `max binds (${account.maxBinds}) reached`);
    if (session.state === 'closed') return { command_status: Status.ESME_RBINDFAIL };
    this.lockout?.succeeded(remote, account.systemId);
    const context: EsmeContext = { accountId: account.id, systemId: account.systemId, open: 0 };
    session.context = context;
    this.registry.add(account.id, session);
    void session.whenClosed().then(() => this.registry.remove(account.id, session));
    this.log.info({ systemId: account.systemId, remote, bind: BIND_TYPE[pdu.command], session: session.id }, 'ESME bound');
    return { command_status: 0 };
  }
}

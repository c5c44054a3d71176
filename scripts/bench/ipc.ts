// Messages between the loopback orchestrator and its child processes (over the fork() IPC channel;
// they flow only before and after the timed phase, never during it).
//
// server:  → listening {port}      ← mark → marked      ← report → report {cpu, handled}      ← exit
// client:  ← start {…} → warmed    ← go → done {elapsedMs, cpu, …}                            ← exit
// either:  → error {message} (then exits non-zero)

export interface CpuTime {
  userUs: number;
  systemUs: number;
}

export interface ClientStart {
  type: 'start';
  port: number;
  binds: number;
  /** Requests in flight per bind. */
  window: number;
  warmup: number;
  count: number;
  messageBytes: number;
  /** The client aborts with an error when its work has not finished after this long. */
  limitMs: number;
}

export interface ClientDone {
  type: 'done';
  count: number;
  elapsedMs: number;
  cpu: CpuTime;
  /** Responses with a non-zero status or without a message_id. */
  errors: number;
  /** Highest number of requests in flight seen on any one bind. */
  maxInFlight: number;
  /** Responses per bind (the binds share one counter, so a faster bind takes more). */
  perBind: number[];
}

export interface ServerReport {
  type: 'report';
  cpu: CpuTime;
  /** submit_sm answered since `mark`. */
  handled: number;
}

export type ToServer = { type: 'mark' } | { type: 'report' } | { type: 'exit' };
export type ToClient = ClientStart | { type: 'go' } | { type: 'exit' };
export type FromChild =
  | { type: 'listening'; port: number }
  | { type: 'marked' }
  | ServerReport
  | { type: 'warmed' }
  | ClientDone
  | { type: 'closed' }
  | { type: 'error'; message: string };

export interface Channel {
  send(msg: FromChild): void;
  /** Sends, then exits normally once the message is out (a normal exit lets --cpu-prof write its file). */
  sendThenExit(msg: FromChild, code?: number): void;
}

/** What the child programs share: talking to the parent, failing loudly, and dying with it. */
export function childChannel<In extends { type: string }>(onMessage: (msg: In) => void | Promise<void>): Channel {
  if (process.send === undefined) {
    console.error('this program is started by the loopback benchmark (scripts/bench-loopback.ts), not by hand');
    process.exit(2);
  }
  const onDisconnect = (): never => process.exit(3); // the orchestrator went away: nobody will stop us
  const sendThenExit = (msg: FromChild, code = 0): void => {
    process.off('disconnect', onDisconnect);
    setTimeout(() => process.exit(code), 2_000).unref();
    try {
      process.send!(msg, () => process.exit(code));
    } catch {
      process.exit(code);
    }
  };
  const fail = (err: unknown): void => {
    sendThenExit({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 1);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  process.on('disconnect', onDisconnect);
  process.on('message', (msg: In) => {
    try {
      const out = onMessage(msg);
      if (out instanceof Promise) out.catch(fail);
    } catch (err) {
      fail(err);
    }
  });
  return { send: (msg) => void process.send!(msg), sendThenExit };
}

export function cpuSince(start: NodeJS.CpuUsage): CpuTime {
  const d = process.cpuUsage(start);
  return { userUs: d.user, systemUs: d.system };
}

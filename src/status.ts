// What the gateway's /status answers: one type for the gateway that builds it, the CLI that shows
// it (`smppgw status`) and the tests that read it.

export interface ConnectorStatus {
  up: boolean;
  queued: number;
  inFlight: number;
  tps: number;
  window: number;
}

export interface GatewayStatus {
  ready: boolean;
  /** `ok`, or why the store refuses writes (full, busy, io, readonly, lost). */
  store: string;
  /** Bind states of each account's sessions, by system_id. */
  binds: Record<string, string[]>;
  connectors: Record<string, ConnectorStatus>;
  connectorsUnreadable?: string[];
  /** Receipts and MOs waiting, by system_id. */
  outbox: Record<string, number>;
  lockouts: Array<{ kind: string; address: string; systemId?: string; until: string }>;
  outboxInMemory: number;
  messagesInMemory: number;
  commits: number;
  writes: number;
  syncs: number;
  rates: { acceptedPerSecond: Record<string, number>; sentPerSecond: Record<string, number> };
}

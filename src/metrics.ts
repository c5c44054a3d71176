// Prometheus metrics (prom-client) and the operator HTTP endpoint: /metrics, /healthz, /readyz,
// /status (JSON for `smppgw status`).
// Names are smppgw_*, times in seconds, labels bounded (listener, bind type; later account and
// connector, which the operator defines).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { operatorAccess } from './http-access.js';
import { droppedLogLines, type Logger } from './log.js';
import { RateMeter } from './rate/meter.js';

export class Metrics {
  readonly registry = new Registry();
  /** Rates for `smppgw status`: messages accepted per account, sent (answered OK) per connector. */
  readonly accepted = new RateMeter();
  readonly sent = new RateMeter();
  /** Set by the gateway: open connections per listener, read at scrape time. */
  countConnections: () => Record<string, number> = () => ({});
  readonly connections = new Gauge({
    name: 'smppgw_smpp_connections',
    help: 'Open SMPP connections (TLS handshakes under way included), by listener',
    labelNames: ['listener'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [listener, n] of Object.entries(this.countConnections())) this.connections.set({ listener }, n);
    },
  });
  readonly binds = new Gauge({
    name: 'smppgw_esme_binds',
    help: 'Bound ESME sessions, by account and bind type',
    labelNames: ['account', 'bind'] as const,
    registers: [this.registry],
  });
  readonly bindAttempts = new Counter({
    name: 'smppgw_esme_bind_attempts_total',
    help: 'ESME bind attempts, by result (ok or the status name)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly lockouts = new Counter({
    name: 'smppgw_bind_lockouts_total',
    help: 'Lockouts after repeated failed binds, by what was locked out (ip, system_id)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  /** Set by the gateway: lockouts in force by kind, read at scrape time. */
  countLockouts: () => Record<string, number> = () => ({});
  readonly lockoutsActive = new Gauge({
    name: 'smppgw_bind_lockouts',
    help: 'Lockouts in force, by kind (system_id: one system_id from one address; ip: a whole address)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [kind, n] of Object.entries(this.countLockouts())) this.lockoutsActive.set({ kind }, n);
    },
  });
  readonly connectionsRefused = new Counter({
    name: 'smppgw_connections_refused_total',
    help: 'SMPP connections closed at once, by reason (per_ip: over security.maxConnectionsPerIp; total: over smpp.maxConnections)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  // ---- MT from accounts ----
  readonly esmeSubmits = new Counter({
    name: 'smppgw_esme_submits_total',
    help: 'submit_sm (and data_sm, submit_multi) from accounts, by the status we answered',
    labelNames: ['account', 'status'] as const,
    registers: [this.registry],
  });
  readonly esmeLatency = new Histogram({
    name: 'smppgw_esme_submit_seconds',
    help: "Time from an account's submit_sm to our submit_sm_resp (includes the commit)",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly accountThrottled = new Counter({
    name: 'smppgw_account_throttled_total',
    help: 'Submits from an account answered ESME_RTHROTTLED (over its tps)',
    labelNames: ['account'] as const,
    registers: [this.registry],
  });
  readonly connectorThrottled = new Counter({
    name: 'smppgw_connector_throttled_total',
    help: 'submit_sm a carrier answered ESME_RTHROTTLED',
    labelNames: ['connector'] as const,
    registers: [this.registry],
  });
  // ---- towards carriers ----
  /** Set by the gateway: every configured connector → 1 while bound and able to send, else 0. */
  countConnectorsUp: () => Record<string, number> = () => ({});
  readonly connectorUp = new Gauge({
    name: 'smppgw_connector_up',
    help: '1 while the connector is bound and able to send; 0 while it is not (also disabled); a series per configured connector',
    labelNames: ['connector'] as const,
    registers: [this.registry],
    collect: () => {
      this.connectorUp.reset();
      for (const [connector, up] of Object.entries(this.countConnectorsUp())) this.connectorUp.set({ connector }, up);
    },
  });
  readonly connectorSubmits = new Counter({
    name: 'smppgw_connector_submits_total',
    help: 'submit_sm sent to carriers, by the outcome (status name, timeout, closed)',
    labelNames: ['connector', 'status'] as const,
    registers: [this.registry],
  });
  readonly connectorLatency = new Histogram({
    name: 'smppgw_connector_submit_seconds',
    help: "Time from our submit_sm to the carrier's submit_sm_resp",
    labelNames: ['connector'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly messageParts = new Counter({
    name: 'smppgw_message_parts_total',
    help: 'Message parts a carrier accepted (what carriers bill: one submit_sm each), by account and connector',
    labelNames: ['account', 'connector'] as const,
    registers: [this.registry],
  });
  readonly textSubstituted = new Counter({
    name: 'smppgw_text_substituted_total',
    help: "Characters sent as '?' because the carrier's default alphabet has none such and UCS2 would not fit, by connector",
    labelNames: ['connector'] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'smppgw_retries_total',
    help: 'Submits retried after a temporary error, timeout or lost connection',
    labelNames: ['connector'] as const,
    registers: [this.registry],
  });
  readonly finalStates = new Counter({
    name: 'smppgw_messages_final_total',
    help: 'Messages ended by the gateway itself, by message_state (3 expired, 5 undeliverable, 8 rejected)',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  /** Set by the gateway: queued messages per connector, read at scrape time. */
  countQueues: () => Record<string, number> = () => ({});
  readonly queueDepth = new Gauge({
    name: 'smppgw_connector_queue',
    help: 'Messages waiting to be sent, by connector',
    labelNames: ['connector'] as const,
    registers: [this.registry],
    collect: () => {
      this.queueDepth.reset();
      for (const [connector, n] of Object.entries(this.countQueues())) this.queueDepth.set({ connector }, n);
    },
  });
  /** Set by the gateway: per connector, the age in seconds of its oldest queued message in each lane (absent: none waits). */
  oldestQueued: () => Record<string, { priority?: number; normal?: number }> = () => ({});
  readonly queueAge = new Gauge({
    name: 'smppgw_connector_oldest_queued_seconds',
    help: 'Age of the oldest message waiting to be sent, by connector and lane (0: none waits)',
    labelNames: ['connector', 'lane'] as const,
    registers: [this.registry],
    collect: () => {
      this.queueAge.reset();
      for (const [connector, ages] of Object.entries(this.oldestQueued())) {
        this.queueAge.set({ connector, lane: 'priority' }, ages.priority ?? 0);
        this.queueAge.set({ connector, lane: 'normal' }, ages.normal ?? 0);
      }
    },
  });
  // ---- receipts and MO ----
  readonly carrierReceipts = new Counter({
    name: 'smppgw_dlrs_received_total',
    help: 'Delivery receipts from carriers, by stat',
    labelNames: ['connector', 'stat'] as const,
    registers: [this.registry],
  });
  readonly parkedReceipts = new Counter({
    name: 'smppgw_dlrs_parked_total',
    help: 'Receipts that arrived before their submit_sm_resp was recorded (or match no message)',
    registers: [this.registry],
  });
  readonly submitToReceipt = new Histogram({
    name: 'smppgw_submit_to_dlr_seconds',
    help: 'Time from accepting a message to its final receipt',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [this.registry],
  });
  readonly mos = new Counter({
    name: 'smppgw_mo_total',
    help: 'MO messages from carriers, by result (routed, unrouted)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly outboxDelivered = new Counter({
    name: 'smppgw_outbox_delivered_total',
    help: 'Receipts and MOs delivered to accounts (deliver_sm_resp OK)',
    labelNames: ['account', 'kind'] as const,
    registers: [this.registry],
  });
  readonly outboxExpired = new Counter({
    name: 'smppgw_outbox_expired_total',
    help: 'Receipts and MOs dropped after waiting their TTL for the account',
    labelNames: ['account', 'kind'] as const,
    registers: [this.registry],
  });
  /** Set by the gateway: outbox items per account, read at scrape time. */
  countOutbox: () => Record<string, number> = () => ({});
  readonly outboxDepth = new Gauge({
    name: 'smppgw_outbox_queue',
    help: 'Receipts and MOs waiting for delivery, by account (0 for an account with none)',
    labelNames: ['account'] as const,
    registers: [this.registry],
    collect: () => {
      this.outboxDepth.reset();
      for (const [account, n] of Object.entries(this.countOutbox())) this.outboxDepth.set({ account }, n);
    },
  });

  // ---- the store ----
  readonly storeErrors = new Counter({
    name: 'smppgw_store_errors_total',
    help: 'Commits that failed and whose writes were refused, by reason (full, busy, io, readonly, lost)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly storeRetries = new Counter({
    name: 'smppgw_store_busy_retries_total',
    help: "Commits tried again because another process held the database's write lock",
    registers: [this.registry],
  });
  readonly storeLost = new Gauge({
    name: 'smppgw_store_lost',
    help: '1 once the database path no longer names the open file (deleted or replaced while running)',
    registers: [this.registry],
  });
  readonly storeWalBytes = new Gauge({
    name: 'smppgw_store_wal_bytes',
    help: "Size of the database's WAL file (grows while an outside reader keeps checkpoints from finishing)",
    registers: [this.registry],
  });
  // ---- the log ----
  readonly logDropped = new Counter({
    name: 'smppgw_log_dropped_total',
    help: 'Log lines dropped because the log output (stdout) could not take them: full disk, file size limit, a stalled reader',
    registers: [this.registry],
    collect: () => {
      // The count lives with the process's one stdout sink (log.ts), not with this registry.
      this.logDropped.reset();
      this.logDropped.inc(droppedLogLines());
    },
  });

  // ---- slow and silent peers, unusable carrier ids ----
  readonly outboxTimeouts = new Counter({
    name: 'smppgw_outbox_timeouts_total',
    help: 'deliver_sm to accounts not answered within the response timeout (a late OK still completes the item), by account',
    labelNames: ['account'] as const,
    registers: [this.registry],
  });
  readonly carrierResends = new Counter({
    name: 'smppgw_carrier_resends_total',
    help: 'submit_sm sent again to a carrier after a response timeout or a lost connection, by connector',
    labelNames: ['connector'] as const,
    registers: [this.registry],
  });
  readonly carrierRebinds = new Counter({
    name: 'smppgw_carrier_timeout_rebinds_total',
    help: 'Carrier links dropped and bound again after response timeouts in a row, by connector',
    labelNames: ['connector'] as const,
    registers: [this.registry],
  });
  readonly carrierIdAnomalies = new Counter({
    name: 'smppgw_carrier_id_anomalies_total',
    help: "submit_sm_resp OK with a message_id receipts cannot use (empty, or longer than SMPP's 64), by connector and kind",
    labelNames: ['connector', 'kind'] as const,
    registers: [this.registry],
  });

  private static readonly KNOWN_STATUS = new Set(['ESME_ROK', 'timeout', 'closed']);

  /** Keeps the status label set bounded: names the tables know, or `other`. */
  statusLabel(name: string): string {
    return Metrics.KNOWN_STATUS.has(name) || name.startsWith('ESME_') ? name : 'other';
  }

  constructor() {
    // Unprefixed (process_*, nodejs_*), as stock dashboards and alerts expect them.
    collectDefaultMetrics({ register: this.registry });
  }
}

export interface HealthSource {
  /** Liveness: the event loop answers (this is called from it) and the database handle reads. */
  alive(): boolean;
  /** Readiness: listeners up and the store taking writes. */
  ready(): boolean;
  /** Why not ready, for /readyz's body (e.g. `store full`). */
  notReadyReason?(): string | undefined;
  /** Binds, queues and rates for `smppgw status`. */
  status?(): object;
  /** Bind lockouts for `smppgw lockout list|clear`. */
  lockouts?: {
    list(filter: LockoutFilter): unknown[];
    clear(filter: LockoutFilter): number;
  };
}

/** Which lockouts an operator lists or clears (address= and system_id= of the query). */
export interface LockoutFilter {
  address?: string;
  systemId?: string;
}

/** address= and system_id= of a query string. */
function lockoutFilter(query: URLSearchParams): LockoutFilter {
  const address = query.get('address');
  const systemId = query.get('system_id');
  return { ...(address !== null ? { address } : {}), ...(systemId !== null ? { systemId } : {}) };
}

/** What a metric instance offers for dropping its series (every prom-client type has both). */
interface Forgettable {
  get(): Promise<{ values: Array<{ labels: Record<string, string | number> }> }> | { values: Array<{ labels: Record<string, string | number> }> };
  remove(labels: Record<string, string | number>): void;
}

/**
 * Drops every series whose `label` is `value` (a removed account or connector): dashboards stop
 * showing it, and one re-created under the same name starts from zero.
 */
export async function forgetSeries(registry: Registry, label: 'account' | 'connector', value: string): Promise<void> {
  for (const metric of registry.getMetricsAsArray() as unknown as Forgettable[]) {
    const { values } = await metric.get();
    for (const { labels } of values) {
      if (labels[label] !== value) continue;
      const { le: _bucket, ...series } = labels; // a histogram's bucket is not part of its series
      void _bucket;
      metric.remove(series);
    }
  }
}

/**
 * Serves /metrics, /healthz and /readyz to anyone who reaches http.host, and the operator's routes
 * (/status, /lockouts) only as http-access.ts allows (`token`: http.token).
 */
export class MetricsServer {
  private readonly server: http.Server;

  constructor(
    metrics: Metrics,
    health: HealthSource,
    private readonly log: Logger,
    private readonly token = '',
  ) {
    this.server = http.createServer((req, res) => {
      const [path, query = ''] = (req.url ?? '/').split('?');
      if (path === '/status' || path === '/lockouts') {
        this.operator(path, req, res, health, new URLSearchParams(query));
      } else if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/metrics') {
        metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
          (err: Error) => {
            this.log.error({ err: err.message }, 'metrics collection failed');
            res.writeHead(500).end();
          },
        );
      } else if (path === '/healthz') {
        const ok = health.alive();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'unhealthy\n');
      } else if (path === '/readyz') {
        const ok = health.ready();
        const why = ok ? undefined : health.notReadyReason?.();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : why ? `not ready: ${why}\n` : 'not ready\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    });
  }

  /**
   * The operator's routes (/status; /lockouts: GET lists, DELETE ends them, `address=` and
   * `system_id=` filter): one place, so one access rule covers them all.
   */
  private operator(path: '/status' | '/lockouts', req: http.IncomingMessage, res: http.ServerResponse, health: HealthSource, query: URLSearchParams): void {
    const access = operatorAccess(req.socket.remoteAddress, req.headers.authorization, this.token);
    if (access === 'unauthorized') {
      res.writeHead(401, { 'www-authenticate': 'Bearer, Basic realm="smppgw"', 'content-type': 'text/plain' }).end('http.token required\n');
      return;
    }
    if (access === 'forbidden') {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('only from this machine unless http.token is set\n');
      return;
    }
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (path === '/status' && health.status) {
      if (read) json(health.status());
      else res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/lockouts' && health.lockouts) {
      if (read) json(health.lockouts.list(lockoutFilter(query)));
      else if (req.method === 'DELETE') json({ cleared: health.lockouts.clear(lockoutFilter(query)) });
      else res.writeHead(405, { allow: 'GET, HEAD, DELETE' }).end();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address() as AddressInfo;
        this.log.info({ host: addr.address, port: addr.port }, 'HTTP endpoint up: /metrics /healthz /readyz');
        resolve(addr);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// Prometheus metrics (prom-client) and the operator HTTP endpoint: /metrics, /healthz, /readyz.
// Names are smppgw_*, times in seconds, labels bounded (listener, bind type; later account and
// connector, which the operator defines).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from './log.js';

export class Metrics {
  readonly registry = new Registry();
  /** Set by the gateway: open connections per listener, read at scrape time. */
  countConnections: () => Record<string, number> = () => ({});
  readonly connections = new Gauge({
    name: 'smppgw_smpp_connections',
    help: 'Open SMPP connections, by listener',
    labelNames: ['listener'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [listener, n] of Object.entries(this.countConnections())) this.connections.set({ listener }, n);
    },
  });
  readonly binds = new Gauge({
    name: 'smppgw_esme_binds',
    help: 'Bound ESME sessions, by bind type',
    labelNames: ['bind'] as const,
    registers: [this.registry],
  });
  readonly bindAttempts = new Counter({
    name: 'smppgw_esme_bind_attempts_total',
    help: 'ESME bind attempts, by result (ok or the status name)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'smppgw_' });
  }
}

export interface HealthSource {
  /** Liveness: the event loop answers. */
  alive(): boolean;
  /** Readiness: listeners up and the store open. */
  ready(): boolean;
}

/** Serves /metrics, /healthz and /readyz. */
export class MetricsServer {
  private readonly server: http.Server;

  constructor(metrics: Metrics, health: HealthSource, private readonly log: Logger) {
    this.server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
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
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    });
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

// The running carrier links, kept in step with the connector table: a link whose bind settings
// changed is stopped and started again, one whose rate or window changed is updated in place,
// one removed or disabled stops. Messages queued on a stopped link are handed back to be placed.
import type { Logger } from '../log.js';
import type { Connector } from '../store/connectors.js';
import type { CarrierLink, ConnectorHooks, Outgoing } from './link.js';

export type LinkFactory = (config: Connector, hooks: ConnectorHooks) => CarrierLink;

export interface LinksOptions {
  build: LinkFactory;
  inbound: ConnectorHooks['inbound'];
  result: ConnectorHooks['result'];
  /** A running link went up or down (never called for a link that was replaced). */
  state(link: CarrierLink, up: boolean): void;
  logger: Logger;
}

/** Settings that only a new bind takes. */
function needsRebind(next: Connector, s: Connector): boolean {
  return (
    next.host !== s.host ||
    next.port !== s.port ||
    next.systemId !== s.systemId ||
    next.password !== s.password ||
    next.systemType !== s.systemType ||
    next.bind !== s.bind ||
    next.tls !== s.tls ||
    next.window !== s.window
  );
}

export class Links {
  private readonly running = new Map<string, CarrierLink>();

  constructor(private readonly o: LinksOptions) {}

  get map(): ReadonlyMap<string, CarrierLink> {
    return this.running;
  }

  /** Starts, updates and stops links to match `connectors`; returns the messages of stopped links. */
  reconcile(connectors: readonly Connector[]): Outgoing[] {
    const wanted = new Map(connectors.filter((c) => c.enabled).map((c) => [c.id, c]));
    const orphans: Outgoing[] = [];
    for (const [id, link] of this.running) {
      const next = wanted.get(id);
      if (next && !needsRebind(next, link.settings)) {
        link.update(next);
        continue;
      }
      this.running.delete(id);
      orphans.push(...link.drainQueue());
      void link.stop(5_000);
      this.o.logger.info({ connector: id, reason: next ? 'settings changed' : 'removed or disabled' }, 'connector stopped');
      if (next) this.start(next);
    }
    for (const c of wanted.values()) if (!this.running.has(c.id)) this.start(c);
    return orphans;
  }

  async stop(deadlineMs: number): Promise<void> {
    await Promise.all([...this.running.values()].map((l) => l.stop(deadlineMs)));
  }

  private start(c: Connector): void {
    const link: CarrierLink = this.o.build(c, {
      inbound: this.o.inbound,
      result: this.o.result,
      // A replaced link's late unbind must not act on its successor of the same id.
      state: (id, up) => {
        if (this.running.get(id) === link) this.o.state(link, up);
      },
    });
    this.running.set(c.id, link);
    link.start();
  }
}

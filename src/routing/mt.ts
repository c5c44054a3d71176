// The MT routing table in memory: first matching route by order (longest destination prefix first
// among equal orders) names the connectors to try, in the order the route's kind gives.
import type { MtRoute } from '../store/routes.js';

export interface MtMessage {
  account: string;
  source: string;
  destination: string;
}

export interface RouteChoice {
  routeId: number;
  /** Connector ids to try, first choice first (failover goes down the list). */
  connectors: string[];
}

interface CompiledRoute {
  route: MtRoute;
  /** The destination prefix without a leading "+". */
  prefix: string | null;
  matchSource: ((source: string) => boolean) | undefined;
  fromMin: number;
  toMin: number;
  next: number;
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

export class MtRouter {
  private readonly routes: CompiledRoute[];

  constructor(
    routes: readonly MtRoute[],
    private readonly random: () => number = Math.random,
  ) {
    this.routes = [...routes]
      .sort((a, b) => a.order - b.order || (b.prefix?.length ?? 0) - (a.prefix?.length ?? 0) || a.id - b.id)
      .map((route) => {
        let matchSource: CompiledRoute['matchSource'];
        const s = route.source;
        if (s !== null) {
          if (s.length > 1 && s.startsWith('/') && s.endsWith('/')) {
            const re = new RegExp(s.slice(1, -1));
            matchSource = (src) => re.test(src);
          } else {
            matchSource = (src) => src.startsWith(s);
          }
        }
        return {
          route,
          prefix: route.prefix === null ? null : route.prefix.replace(/^\+/, ''),
          matchSource,
          fromMin: route.timeFrom ? minutes(route.timeFrom) : -1,
          toMin: route.timeTo ? minutes(route.timeTo) : -1,
          next: 0,
        };
      });
  }

  get size(): number {
    return this.routes.length;
  }

  /** The route for a message at time `now` (ms since epoch), or undefined when none matches. */
  route(msg: MtMessage, now: number = Date.now()): RouteChoice | undefined {
    const d = new Date(now);
    const minuteOfDay = d.getUTCHours() * 60 + d.getUTCMinutes();
    // "+4477…" and "4477…" are the same number; prefixes are compared without the "+".
    const destination = msg.destination.startsWith('+') ? msg.destination.slice(1) : msg.destination;
    for (const c of this.routes) {
      const r = c.route;
      if (r.account !== null && r.account !== msg.account) continue;
      if (c.prefix !== null && !destination.startsWith(c.prefix)) continue;
      if (c.matchSource !== undefined && !c.matchSource(msg.source)) continue;
      if (c.fromMin >= 0) {
        const inside = c.fromMin <= c.toMin ? minuteOfDay >= c.fromMin && minuteOfDay < c.toMin : minuteOfDay >= c.fromMin || minuteOfDay < c.toMin;
        if (!inside) continue;
      }
      return { routeId: r.id, connectors: this.order(c) };
    }
    return undefined;
  }

  private order(c: CompiledRoute): string[] {
    const ids = c.route.connectors.map((x) => x.id);
    switch (c.route.kind) {
      case 'static':
      case 'failover':
        return ids;
      case 'roundrobin': {
        const start = c.next++ % ids.length;
        return [...ids.slice(start), ...ids.slice(0, start)];
      }
      case 'weighted': {
        const total = c.route.connectors.reduce((s, x) => s + x.weight, 0);
        let pick = this.random() * total;
        let first = 0;
        for (let i = 0; i < c.route.connectors.length; i++) {
          pick -= c.route.connectors[i]!.weight;
          if (pick < 0) {
            first = i;
            break;
          }
        }
        return [ids[first]!, ...ids.filter((_, i) => i !== first)];
      }
    }
  }
}

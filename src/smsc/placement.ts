// Choosing a link for a message and moving messages when links go up or down. A message carries
// its route's connectors in order; `tried` names the one it is on. Pure over the running links.
import type { CarrierLink, Outgoing } from './link.js';

export type LinkMap = ReadonlyMap<string, CarrierLink>;

/**
 * The link a message goes to: the first of its connectors that is up, from the one it is on;
 * none up, the one it is on (or any of its that runs) to wait there; undefined when none runs.
 */
export function place(msg: Outgoing, links: LinkMap): CarrierLink | undefined {
  const n = msg.connectors.length;
  for (let k = 0; k < n; k++) {
    const i = (msg.tried + k) % n;
    const link = links.get(msg.connectors[i]!);
    if (link?.up) {
      msg.tried = i;
      return link;
    }
  }
  const current = links.get(msg.connectors[msg.tried % n]!);
  if (current) return current;
  for (const id of msg.connectors) {
    const link = links.get(id);
    if (link) return link;
  }
  return undefined;
}

/** After a failed attempt: moves `msg` to the next of its connectors that is up; false if none other is. */
export function failOver(msg: Outgoing, links: LinkMap): boolean {
  const n = msg.connectors.length;
  for (let k = 1; k < n; k++) {
    const i = (msg.tried + k) % n;
    if (links.get(msg.connectors[i]!)?.up) {
      msg.tried = i;
      return true;
    }
  }
  return false;
}

/** A link went down: its queued messages, each pointed past it (to be placed again). */
export function leaveDownLink(link: CarrierLink): Outgoing[] {
  const moved = link.drainQueue();
  for (const msg of moved) if (msg.connectors.length > 1) msg.tried = (msg.tried + 1) % msg.connectors.length;
  return moved;
}

/** A link came up: messages parked on links that are down move to it when their route names it. */
export function gatherOnUp(link: CarrierLink, links: LinkMap): void {
  for (const other of links.values()) {
    if (other === link || other.up || other.queued === 0) continue;
    for (const msg of other.drainQueue()) {
      const i = msg.connectors.indexOf(link.id);
      if (i >= 0) msg.tried = i;
      (i >= 0 ? link : other).enqueue(msg);
    }
  }
}

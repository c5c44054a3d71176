// The MO routing table in memory: the first route (by order) whose short code, keyword, source
// prefix and connector all match names the account the message goes to.
import type { MoRoute } from '../store/routes.js';

export interface MoMessage {
  /** The short code or long number the subscriber wrote to. */
  destination: string;
  source: string;
  /** The message text (for the keyword), if it is text. */
  text: string;
  connector: string;
}

/** The first word of a message, upper case: "vote a" → "VOTE". */
export function keywordOf(text: string): string {
  const m = /^\s*(\S+)/.exec(text);
  return m ? m[1]!.toUpperCase() : '';
}

export class MoRouter {
  private readonly routes: MoRoute[];

  constructor(routes: readonly MoRoute[]) {
    // Among equal orders, a route with a keyword is more specific than one without.
    this.routes = [...routes].sort((a, b) => a.order - b.order || Number(b.keyword !== null) - Number(a.keyword !== null) || a.id - b.id);
  }

  route(msg: MoMessage): MoRoute | undefined {
    const keyword = keywordOf(msg.text);
    return this.routes.find(
      (r) =>
        (r.shortCode === null || r.shortCode === msg.destination) &&
        (r.keyword === null || r.keyword === keyword) &&
        (r.sourcePrefix === null || msg.source.startsWith(r.sourcePrefix)) &&
        (r.connector === null || r.connector === msg.connector),
    );
  }
}

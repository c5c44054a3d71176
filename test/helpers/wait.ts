// Small waiting helpers for end-to-end tests: every wait is bounded.
import net from 'node:net';

/** A port nothing listens on now (it was free a moment ago, and we closed it). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Resolves once `cond()` holds, checking every 20 ms; rejects after `ms`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  for (let i = 0; i < Math.ceil(ms / 20) + 1; i++) {
    if (await cond()) return;
    if (Date.now() >= until) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not reached within ${ms} ms`);
}

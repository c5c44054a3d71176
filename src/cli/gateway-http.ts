// Operator commands that ask the running gateway over its HTTP endpoint (status, lockout, health):
// where it listens (--url, else 127.0.0.1 and http.port of the config and environment), with
// http.token when one is set, and one line (exit 69) when it cannot be reached or refuses.
import { loadConfig } from '../config.js';
import { UnavailableError } from '../errors.js';

export interface GatewayHttpOptions {
  config?: string;
  url?: string;
}

/** The endpoint's base URL and the headers it wants. */
export function gatewayEndpoint(o: GatewayHttpOptions): { base: string; headers: Record<string, string> } {
  const { http } = loadConfig(o.config ? { file: o.config } : {});
  return { base: o.url ?? `http://127.0.0.1:${http.port}`, headers: http.token ? { authorization: `Bearer ${http.token}` } : {} };
}

/** `method path` on the gateway, parsed as JSON. */
export async function askGateway(o: GatewayHttpOptions, path: string, method: 'GET' | 'DELETE' = 'GET'): Promise<unknown> {
  const { base, headers } = gatewayEndpoint(o);
  const url = `${base}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, signal: AbortSignal.timeout(5_000) });
  } catch (err) {
    throw new UnavailableError('STATUS_UNREACHABLE', `cannot reach the gateway at ${url}: ${(err as Error).message}`);
  }
  if (res.status === 401) throw new UnavailableError('STATUS_UNREACHABLE', `${url} asks for http.token: set it in the config or SMPPGW_HTTP__TOKEN`);
  if (!res.ok) throw new UnavailableError('STATUS_UNREACHABLE', `${url} answered ${res.status}`);
  return res.json();
}

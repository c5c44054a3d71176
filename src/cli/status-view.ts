// `smppgw status` for a person: readiness, then accounts and connectors with their rates, queues
// and binds, then lockouts. `--json` prints the endpoint's answer as it is.
import type { GatewayStatus } from '../status.js';

/** Columns, left-aligned, two spaces apart. */
function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '  (none)\n';
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `  ${cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()}\n`;
  return line(head) + rows.map(line).join('');
}

const rate = (n: number | undefined) => (n ?? 0).toFixed(1);

export function formatStatus(s: GatewayStatus): string {
  const accounts = [...new Set([...Object.keys(s.binds), ...Object.keys(s.outbox), ...Object.keys(s.rates.acceptedPerSecond)])].sort();
  const connectors = Object.keys(s.connectors).sort();
  let out = `ready: ${s.ready ? 'yes' : 'no'}   store: ${s.store}   in memory: ${s.messagesInMemory} message(s), ${s.outboxInMemory} outbox item(s)\n`;
  out += '\naccounts (rates over the last ~10 s)\n';
  out += table(
    ['account', 'accepted/s', 'outbox', 'binds'],
    accounts.map((a) => [
      a,
      rate(s.rates.acceptedPerSecond[a]),
      String(s.outbox[a] ?? 0),
      (s.binds[a] ?? []).map((b) => b.replace(/^bound_/, '')).join(',') || '-',
    ]),
  );
  out += '\nconnectors\n';
  out += table(
    ['connector', 'up', 'sent/s', 'queued', 'in flight', 'tps', 'window'],
    connectors.map((id) => {
      const c = s.connectors[id]!;
      return [id, c.up ? 'yes' : 'no', rate(s.rates.sentPerSecond[id]), String(c.queued), String(c.inFlight), c.tps ? String(c.tps) : '-', String(c.window)];
    }),
  );
  if (s.connectorsUnreadable?.length) out += `  left down, password cannot be opened: ${s.connectorsUnreadable.join(', ')}\n`;
  out += '\nbind lockouts\n';
  out += table(
    ['kind', 'address', 'system_id', 'until'],
    s.lockouts.map((l) => [l.kind, l.address, l.systemId ?? '*', l.until]),
  );
  return out;
}

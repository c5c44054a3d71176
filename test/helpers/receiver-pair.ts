// An SMPP receiver bound to a real server whose binds register an account's session in a
// BindRegistry, as the gateway's do: for tests of outbox delivery without the rest of the gateway.
// `got` collects the text of every deliver_sm; `bound` resolves once the receiver is bound.
import { silentLogger } from '../../src/log.js';
import type { BindRegistry } from '../../src/esme/registry.js';
import { SmppClient } from '../../src/smpp/client.js';
import { SmppServer } from '../../src/smpp/server.js';

export async function receiverPair(t: { after(fn: () => unknown): void }, registry: BindRegistry, account: number) {
  const got: string[] = [];
  const server = new SmppServer({
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    handlers: {
      bind: (_pdu, session) => {
        registry.add(account, session);
        return { system_id: 'gw' };
      },
      state: (session, state) => {
        if (state === 'bound_rx') registry.bound(account, session);
      },
    },
  });
  const { port } = await server.listen();
  const bound = new Promise<void>((resolve) => {
    const client = new SmppClient({
      host: '127.0.0.1',
      port,
      logger: silentLogger,
      bind: { command: 'bind_receiver', system_id: `acct${account}`, password: 'x' },
      handlers: {
        request: (pdu) => {
          if (pdu.command === 'deliver_sm') got.push(pdu.short_message.toString());
          return {};
        },
      },
      onBound: () => resolve(),
    });
    client.start();
    t.after(() => client.close(1_000));
  });
  t.after(() => server.close(1_000));
  return { got, bound };
}

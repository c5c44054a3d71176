// The SMPP door's request switch: what each ESME command does (bind → auth; submits → the intake
// through SubmitHandler; query/cancel/replace → ManageHandler), and the bind gauges.
import { SmppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { Status, statusName } from '../smpp/defs.js';
import type { Session, SessionHandlers } from '../smpp/session.js';
import { esmeContext, type EsmeAuth } from './auth.js';
import type { ManageHandler } from './manage.js';
import type { BindRegistry } from './registry.js';
import type { SubmitHandler } from './submit.js';

export interface EsmeDoor {
  auth: EsmeAuth;
  registry: BindRegistry;
  submits: SubmitHandler;
  manage: ManageHandler;
  metrics: Metrics;
  logger: Logger;
}

export function esmeHandlers(door: EsmeDoor): SessionHandlers {
  const { auth, registry, submits, manage, metrics, logger: log } = door;
  const boundAs = new WeakMap<Session, { account: string; bind: string }>();
  return {
    bind: async (pdu, session) => {
      const init = await auth.authenticate(pdu, session);
      const status = init.command_status ?? 0;
      metrics.bindAttempts.inc({ result: status === 0 ? 'ok' : statusName(status) });
      return { system_id: 'smppgw', ...init };
    },
    request: (pdu, session) => {
      switch (pdu.command) {
        case 'submit_sm':
          return submits.submit(pdu, session);
        case 'data_sm':
          return submits.dataSm(pdu, session);
        case 'submit_multi':
          return submits.submitMulti(pdu, session);
        case 'query_sm':
          return manage.query(pdu, session);
        case 'cancel_sm':
          return manage.cancel(pdu, session);
        case 'replace_sm':
          return manage.replace(pdu, session);
        default:
          log.debug({ command: pdu.command, session: session.id }, 'command not supported yet');
          throw new SmppError(Status.ESME_RINVCMDID!, `${pdu.command} is not supported`);
      }
    },
    state: (session, state) => {
      const counted = boundAs.get(session);
      const ctx = esmeContext(session);
      if (state.startsWith('bound_') && ctx) {
        const labels = { account: ctx.systemId, bind: state.slice('bound_'.length) };
        boundAs.set(session, labels);
        metrics.binds.inc(labels);
        registry.bound(ctx.accountId, session);
      } else if (counted !== undefined) {
        boundAs.delete(session);
        metrics.binds.dec(counted);
      }
    },
  };
}

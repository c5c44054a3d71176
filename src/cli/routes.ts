// `smppgw route`: the MT and MO routing tables (add, list, remove), in the same file the daemon
// uses; the daemon picks a change up within two seconds.
import { Command, Option } from 'commander';
import { InvalidInputError } from '../errors.js';
import { parseConnectorList, RouteStore, ROUTE_KINDS, type RouteKind } from '../store/routes.js';
import { type DbOptions, dbOptions, intArg, printRows, withDb } from './admin.js';

export function routeCommand(): Command {
  const route = new Command('route').description('MT and MO routing tables');
  const add = route.command('add').description('add a route');
  dbOptions(add.command('mt').description('route MT (provider → carrier) traffic to connectors'))
    .requiredOption('--connector <ids>', 'connector id(s), comma separated; id:weight for weighted')
    .addOption(new Option('--kind <k>', 'how the connectors are used').choices([...ROUTE_KINDS]).default('static'))
    .option('--order <n>', 'lower orders are tried first', intArg(-1_000_000, 1_000_000), 100)
    .option('--account <a>', 'only this account')
    .option('--prefix <p>', 'destination prefix')
    .option('--source <s>', 'source address prefix, or /regex/')
    .option('--time-from <HH:MM>', 'active from (UTC)')
    .option('--time-to <HH:MM>', 'active until (UTC)')
    .action(
      (
        o: DbOptions & {
          connector: string;
          kind: RouteKind;
          order: number;
          account?: string;
          prefix?: string;
          source?: string;
          timeFrom?: string;
          timeTo?: string;
        },
      ) =>
        withDb(o, (db, requireDefault) => {
          const r = new RouteStore(db, Date.now, requireDefault).addMt({
            connectors: parseConnectorList(o.connector),
            kind: o.kind,
            order: o.order,
            account: o.account ?? null,
            prefix: o.prefix ?? null,
            source: o.source ?? null,
            timeFrom: o.timeFrom ?? null,
            timeTo: o.timeTo ?? null,
          });
          printRows([{ table: 'mt', ...r, connectors: r.connectors.map((c) => (c.weight === 1 ? c.id : `${c.id}:${c.weight}`)) }], o.json);
        }),
    );
  dbOptions(add.command('mo').description('route MO (subscriber → short code) traffic to an account'))
    .requiredOption('--account <a>', 'the account that receives it')
    .option('--short-code <c>', 'destination address (short code or long number)')
    .option('--keyword <k>', 'first word of the message, any case')
    .option('--source-prefix <p>', 'subscriber number prefix')
    .option('--connector <id>', 'only MOs arriving on this connector')
    .option('--order <n>', 'lower orders are tried first', intArg(-1_000_000, 1_000_000), 100)
    .action((o: DbOptions & { account: string; shortCode?: string; keyword?: string; sourcePrefix?: string; connector?: string; order: number }) =>
      withDb(o, (db) => {
        const r = new RouteStore(db).addMo({
          account: o.account,
          shortCode: o.shortCode ?? null,
          keyword: o.keyword ?? null,
          sourcePrefix: o.sourcePrefix ?? null,
          connector: o.connector ?? null,
          order: o.order,
        });
        printRows([{ table: 'mo', ...r }], o.json);
      }),
    );
  dbOptions(route.command('list').description('list both tables in match order')).action((o: DbOptions) =>
    withDb(o, (db) => {
      const store = new RouteStore(db);
      const mt = store.listMt().map((r) => ({
        table: 'mt',
        id: r.id,
        order: r.order,
        kind: r.kind,
        connectors: r.connectors.map((c) => (c.weight === 1 ? c.id : `${c.id}:${c.weight}`)).join(','),
        account: r.account,
        prefix: r.prefix,
        source: r.source,
        time: r.timeFrom ? `${r.timeFrom}-${r.timeTo}` : null,
      }));
      const mo = store.listMo().map((r) => ({
        table: 'mo',
        id: r.id,
        order: r.order,
        account: r.account,
        short_code: r.shortCode,
        keyword: r.keyword,
        source_prefix: r.sourcePrefix,
        connector: r.connector,
      }));
      if (o.json) printRows([...mt, ...mo], true);
      else {
        process.stdout.write('MT routes\n');
        printRows(mt);
        process.stdout.write('\nMO routes\n');
        printRows(mo);
      }
    }),
  );
  dbOptions(route.command('remove <table> <id>').description('remove route <id> from table mt or mo')).action((table: string, idText: string, o: DbOptions) =>
    withDb(o, (db, requireDefault) => {
      const id = intArg(1)(idText);
      const store = new RouteStore(db, Date.now, requireDefault);
      if (table !== 'mt' && table !== 'mo') throw new InvalidInputError('table must be mt or mo');
      if (!(table === 'mt' ? store.removeMt(id) : store.removeMo(id))) throw new InvalidInputError(`no ${table} route ${id}`);
      process.stdout.write(`removed ${table} route ${id}\n`);
    }),
  );
  return route;
}

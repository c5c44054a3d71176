// The whole benchmark suite in one run: codec, then loopback; one table, one JSON file.
//
//   node dist/scripts/bench/all.js [--json] …   (options: scripts/bench/cli.ts)
import { runCli } from './cli.js';

await runCli(['codec', 'loopback']).catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});

// The whole benchmark suite in one run: codec, loopback, then the gateway end to end; one table,
// one JSON file.
//
//   node dist/scripts/bench/all.js [--json] [--only codec,loopback,gateway] …   (options: scripts/bench/cli.ts)
import { ALL_PARTS, runCli } from './cli.js';

await runCli([...ALL_PARTS]).catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});

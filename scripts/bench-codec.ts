// submit_sm encode/decode rates, our codec against the `smpp` package (see docs/benchmarks.md).
//
//   node dist/scripts/bench-codec.js [--json] [--all] …   (options: scripts/bench/cli.ts)
//
// Run as `npm run bench` (npm sets npm_lifecycle_event to "bench") it runs the whole suite, codec,
// loopback and gateway, into one table and one JSON file; run directly or as `npm run bench:codec`,
// the codec part only. `--all` runs every part whatever started it.
import { ALL_PARTS, runCli, type Part } from './bench/cli.js';

const parts: Part[] = process.env.npm_lifecycle_event === 'bench' ? [...ALL_PARTS] : ['codec'];
await runCli(parts).catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});

// Command-line numbers for the scripts: a bad value ends the run with exit code 2 and a message.
export function numberArg(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`--${name}: not a number: ${value}\n`);
    process.exit(2);
  }
  return n;
}

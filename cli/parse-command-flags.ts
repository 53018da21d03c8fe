import { parseArgs } from 'node:util';

/** An option table as node:util parseArgs takes it. */
export type FlagOptions = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/**
 * The common start of a `veil <command> [flags]` run: unknown or malformed flags are a usage error naming the command,
 * with the help (exit 2); `--help` prints the help (exit 0). Returns the flags, or the exit code to return.
 */
export function parseCommandFlags<V>(command: string, args: string[], options: FlagOptions, help: string): { values: V } | { exit: number } {
  let values: V;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }) as unknown as { values: V });
  } catch (err) {
    console.error(`veil ${command}: ${(err as Error).message}\n\n${help}`);
    return { exit: 2 };
  }
  if ((values as { help?: boolean }).help) {
    console.log(help);
    return { exit: 0 };
  }
  return { values };
}

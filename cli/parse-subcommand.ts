import { parseCommandFlags } from './parse-command-flags';

type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;
/** The parsed flags of an option table: booleans for boolean options, strings for the rest, all optional. */
export type SubcommandValues<O extends OptionSpec> = { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };

/**
 * The common start of a `veil <command> <subcommand> [flags]` run: no subcommand or `help` prints the help (exit 2
 * without one, 0 when asked), unknown flags are a usage error naming the subcommand (exit 2), `--help` after the
 * subcommand prints the help (exit 0). Returns the subcommand and its flags, or the exit code to return.
 */
export function parseSubcommand<O extends OptionSpec>(
  command: string, args: string[], options: O, help: string,
): { sub: string; values: SubcommandValues<O> } | { exit: number } {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(help);
    return { exit: sub ? 0 : 2 };
  }
  const parsed = parseCommandFlags<SubcommandValues<O>>(`${command} ${sub}`, rest, options, help);
  return 'exit' in parsed ? parsed : { sub, values: parsed.values };
}

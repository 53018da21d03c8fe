/** What a CLI subcommand printed and returned. */
export type CliResult = { code: number; out: string; err: string };

/**
 * Runs a `veil` subcommand's `run(args)` in-process with console output captured (and restored afterwards), so tests
 * can assert on exit codes and messages.
 */
export async function captureCli(run: (args: string[]) => Promise<number>, args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await run(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

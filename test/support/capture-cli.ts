/** What a CLI subcommand printed and returned. */
export type CliResult = { code: number; out: string; err: string };

/**
 * Runs a `veil` subcommand's `run(args)` in-process with console output captured (and restored afterwards), so tests
 * can assert on exit codes and messages. Text written straight to stdout (a streamed reply) is captured in `out` too.
 */
export async function captureCli(run: (args: string[]) => Promise<number>, args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  let partial = '';
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    out.push(partial + a.join(' '));
    partial = '';
  });
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    partial += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stdout.write);
  const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await run(args);
    if (partial) out.push(partial);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    write.mockRestore();
    log.mockRestore();
    error.mockRestore();
  }
}

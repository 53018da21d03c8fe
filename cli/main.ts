/**
 * The `veil` command: a table of subcommands, each in its own file exporting `run(args)`.
 * Subcommands are loaded lazily so `veil verify` does not pay for node-seal or gRPC start-up.
 */
export type CommandModule = { run(args: string[]): Promise<number>; summary: string };

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  serve: () => import('./serve'),
  demo: () => import('./demo'),
  verify: () => import('./verify'),
  fhe: () => import('./fhe'),
  chain: () => import('./chain'),
  worker: () => import('./worker'),
};

const USAGE = `usage: veil <command> [options]

commands:
  serve     run the gateway (gRPC) on its embedded defaults or VEIL_CONFIG / VEIL_* settings
  demo      encrypt the demo test split, predict through the gateway, compare with plaintext inference
  verify    verify attestation evidence offline at an explicit time
  fhe       FHE model tools (veil fhe check MODEL.onnx)
  chain     on-chain registry: deploy, approve/revoke measurements, show state
  worker    run a remote TEE worker node

Run \`veil <command> --help\` for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`veil: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  const command = await load().catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException)?.code === 'MODULE_NOT_FOUND') return undefined;
    throw err;
  });
  if (!command) {
    console.error(`veil: command "${name}" is not available in this build`);
    return 2;
  }
  return command.run(rest);
}

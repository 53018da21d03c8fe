/**
 * The `veil` command: a table of subcommands, each in its own file exporting `run(args)`.
 * Subcommands are loaded lazily so `veil verify` does not pay for node-seal or gRPC start-up.
 */
export type CommandModule = { run(args: string[]): Promise<number>; summary: string };

// `require` rather than `import()`: Veil runs as CommonJS through tsx, whose CJS hook resolves extensionless
// TypeScript paths for require but hands dynamic import() to Node's ESM resolver, which does not.
const COMMANDS: Record<string, () => CommandModule> = {
  serve: () => require('./serve'),
  demo: () => require('./demo'),
  verify: () => require('./verify'),
  fhe: () => require('./fhe'),
  chain: () => require('./chain'),
  worker: () => require('./worker'),
  keys: () => require('./keys'),
  proxy: () => require('./proxy'),
  pay: () => require('./pay'),
  config: () => require('./config'),
  health: () => require('./health'),
};

const USAGE = `usage: veil <command> [options]

commands:
  serve     run the gateway (gRPC) on its embedded defaults or VEIL_CONFIG / VEIL_* settings
  demo      encrypt the demo test split, predict through the gateway, compare with plaintext inference
  verify    verify attestation evidence offline at an explicit time (--onchain: against the registry too)
  fhe       FHE model tools (veil fhe check MODEL.onnx)
  chain     on-chain registry: deploy, approve/revoke measurements, show state
  worker    run a remote TEE worker node
  keys      create, list and revoke API keys (auth.mode = api-keys)
  proxy     local OpenAI-compatible endpoint: attests TEE nodes, seals to them, verifies every answer
  pay       payment channel: open, top up, show, withdraw, close, quote (embedded dev chain by default)
  config    print the effective configuration and the source of each value (secrets redacted)
  health    ask a gateway or worker for its gRPC health (grpc.health.v1); exit 0 only when SERVING

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
  let command: CommandModule | undefined;
  try {
    command = load();
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException)?.code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(`/cli/${name}'`);
    if (!missing) throw err;
  }
  if (!command) {
    console.error(`veil: command "${name}" is not available in this build`);
    return 2;
  }
  return command.run(rest);
}

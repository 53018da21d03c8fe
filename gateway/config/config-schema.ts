import os from 'node:os';
import path from 'node:path';

/** One configurable leaf: its type, bounds, default and the single env var that may override it. */
export type ConfigField =
  | { kind: 'int'; min: number; max: number; default: number; env: string; doc: string }
  // `secret`: the value itself may carry a credential (a password or provider key in a URL): `veil config` redacts it.
  | { kind: 'string'; default: string; env: string; doc: string; pattern?: RegExp; secret?: boolean }
  | { kind: 'enum'; values: readonly string[]; default: string; env: string; doc: string }
  | { kind: 'bool'; default: boolean; env: string; doc: string }
  | { kind: 'list'; default: readonly string[]; env: string; doc: string };

const MiB = 1024 * 1024;
const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * The whole configuration as data: the single source of defaults, bounds and env names.
 * The config file (VEIL_CONFIG, JSON) uses the same nested paths; env vars override single leaves.
 */
export const CONFIG_SCHEMA = {
  // issue #9: `production` turns every development default off (no simulated nodes, no embedded chain, TLS and API
  // keys required) and refuses to start on an unsafe combination, naming it (gateway/config/profile-defaults.ts,
  // gateway/config/check-production-profile.ts).
  profile: {
    kind: 'enum', values: ['development', 'production'], default: 'development', env: 'VEIL_PROFILE',
    doc: 'development (embedded defaults: simulated TEE node, dev chain, no TLS, no API keys) or production (all of those off; unsafe combinations refused)',
  },
  grpc: {
    tlsCertFile: {
      kind: 'string', default: 'none', env: 'VEIL_GRPC_TLS_CERT_FILE',
      doc: 'PEM certificate chain the gRPC server presents ("none" = plaintext; required in production); re-read when the file changes',
    },
    tlsKeyFile: { kind: 'string', default: 'none', env: 'VEIL_GRPC_TLS_KEY_FILE', doc: 'PEM private key of tlsCertFile; re-read when the file changes' },
    host: { kind: 'string', default: '127.0.0.1', env: 'VEIL_GRPC_HOST', doc: 'address the gRPC server binds' },
    port: { kind: 'int', min: 0, max: 65535, default: 50051, env: 'VEIL_GRPC_PORT', doc: 'gRPC port (0 = pick a free port)' },
    maxReceiveMessageBytes: {
      kind: 'int', min: 64 * 1024, max: 1024 * MiB, default: 64 * MiB, env: 'VEIL_GRPC_MAX_RECEIVE_MESSAGE_BYTES',
      doc: 'largest single message a client may send (predict requests, key chunks)',
    },
    maxSendMessageBytes: {
      kind: 'int', min: 64 * 1024, max: 1024 * MiB, default: 64 * MiB, env: 'VEIL_GRPC_MAX_SEND_MESSAGE_BYTES',
      doc: 'largest single message the server sends',
    },
  },
  // issue #10: the OpenAI-compatible HTTP surface beside gRPC (gateway/http/): same API keys, same TLS file provider.
  http: {
    enabled: { kind: 'bool', default: true, env: 'VEIL_HTTP_ENABLED', doc: 'serve the HTTP API (OpenAI-shaped /v1/models, /v1/attestation, sealed /v1/chat/completions and /v1/embeddings, /healthz, /readyz)' },
    host: { kind: 'string', default: '127.0.0.1', env: 'VEIL_HTTP_HOST', doc: 'address the HTTP server binds' },
    port: { kind: 'int', min: 0, max: 65535, default: 8080, env: 'VEIL_HTTP_PORT', doc: 'HTTP port (0 = pick a free port)' },
    tlsCertFile: {
      kind: 'string', default: 'none', env: 'VEIL_HTTP_TLS_CERT_FILE',
      doc: 'PEM certificate chain the HTTP server presents ("none" = plain HTTP; required in production); re-read when the file changes',
    },
    tlsKeyFile: { kind: 'string', default: 'none', env: 'VEIL_HTTP_TLS_KEY_FILE', doc: 'PEM private key of http.tlsCertFile; re-read when the file changes' },
    bodyLimitBytes: {
      kind: 'int', min: 1024, max: 1024 * MiB, default: 64 * MiB, env: 'VEIL_HTTP_BODY_LIMIT_BYTES',
      doc: 'largest request body; beyond it the request is refused with 413 message_too_large before it is buffered',
    },
    defaultDeadlineMs: {
      kind: 'int', min: 100, max: 3_600_000, default: 120_000, env: 'VEIL_HTTP_DEFAULT_DEADLINE_MS',
      doc: 'deadline of a request that sends no x-veil-deadline-ms header (a stream is cut off with an error event when it passes)',
    },
    maxDeadlineMs: { kind: 'int', min: 100, max: 3_600_000, default: 600_000, env: 'VEIL_HTTP_MAX_DEADLINE_MS', doc: 'largest x-veil-deadline-ms a client may ask for' },
    idempotencyTtlSeconds: { kind: 'int', min: 1, max: 7 * 24 * 3600, default: 600, env: 'VEIL_HTTP_IDEMPOTENCY_TTL_SECONDS', doc: 'how long the answer to an Idempotency-Key request is kept for retries (in memory only)' },
    idempotencyMaxEntries: { kind: 'int', min: 1, max: 1_000_000, default: 10_000, env: 'VEIL_HTTP_IDEMPOTENCY_MAX_ENTRIES', doc: 'Idempotency-Key answers kept at once; the oldest are dropped beyond it' },
    idempotencyMaxBytes: {
      kind: 'int', min: 1024, max: 65536 * MiB, default: 256 * MiB, env: 'VEIL_HTTP_IDEMPOTENCY_MAX_BYTES',
      doc: 'bytes of stored Idempotency-Key answers (sealed bytes only); the oldest are dropped beyond it, and a larger answer is not stored',
    },
  },
  fhe: {
    models: {
      kind: 'list', default: ['breast-cancer-lr', 'digits-mlp', 'digits-cnn'], env: 'VEIL_FHE_MODELS',
      doc: 'bundled model ids (or paths to .onnx files) served in FHE mode; comma-separated in env',
    },
    variants: {
      kind: 'list', default: ['blocks', 'expanded', 'feature-major'], env: 'VEIL_FHE_VARIANTS',
      doc: 'FHE compilations served per model: blocks (small batches), expanded (single-sample latency), feature-major (large batches)',
    },
    workers: {
      kind: 'int', min: 1, max: 256, default: Math.max(1, os.availableParallelism()), env: 'VEIL_FHE_WORKERS',
      doc: 'FHE worker threads, all started (and warmed) before the server listens',
    },
    splitSingleGroups: {
      kind: 'enum', values: ['auto', 'always', 'never'], default: 'auto', env: 'VEIL_FHE_SPLIT_SINGLE_GROUPS',
      doc: 'a predict call with one ciphertext group while several workers idle is evaluated by them together: auto = when timed faster lately (busy cores make it slower), always, never',
    },
    maxQueue: { kind: 'int', min: 1, max: 100_000, default: 256, env: 'VEIL_FHE_MAX_QUEUE', doc: 'tasks waiting for a worker before new ones are refused as overloaded' },
    maxGroupsPerRequest: { kind: 'int', min: 1, max: 4096, default: 256, env: 'VEIL_FHE_MAX_GROUPS_PER_REQUEST', doc: 'ciphertext groups one predict call may carry' },
    sessionTtlSeconds: { kind: 'int', min: 10, max: 7 * 24 * 3600, default: 3600, env: 'VEIL_FHE_SESSION_TTL_SECONDS', doc: 'idle time after which an FHE session and its keys are dropped' },
    maxSessionKeyBytes: { kind: 'int', min: 1 * MiB, max: 4096 * MiB, default: 512 * MiB, env: 'VEIL_FHE_MAX_SESSION_KEY_BYTES', doc: 'evaluation-key bytes one session may upload' },
    sessionStoreBytes: { kind: 'int', min: 1 * MiB, max: 65536 * MiB, default: 4096 * MiB, env: 'VEIL_FHE_SESSION_STORE_BYTES', doc: 'evaluation-key bytes held for all sessions; least recently used sessions are evicted beyond it' },
    workerKeyCacheBytes: { kind: 'int', min: 1 * MiB, max: 65536 * MiB, default: 1024 * MiB, env: 'VEIL_FHE_WORKER_KEY_CACHE_BYTES', doc: 'loaded evaluation keys each worker keeps (LRU)' },
    // issue #9 (DoS bounds). Key uploads: the declared sizes must be the spec's exact ones (fhe/evaluation-key-sizes.ts).
    maxConcurrentUploads: { kind: 'int', min: 1, max: 10_000, default: 16, env: 'VEIL_FHE_MAX_CONCURRENT_UPLOADS', doc: 'CreateSession key uploads in progress at once; beyond it new ones are refused as overloaded' },
    maxUploadsPerCaller: { kind: 'int', min: 1, max: 10_000, default: 2, env: 'VEIL_FHE_MAX_UPLOADS_PER_CALLER', doc: 'key uploads one caller (API key, else client address) may have in progress at once' },
    uploadIdleTimeoutMs: { kind: 'int', min: 100, max: 600_000, default: 15_000, env: 'VEIL_FHE_UPLOAD_IDLE_TIMEOUT_MS', doc: 'a key upload that sends no message for this long is refused (upload_timeout)' },
    uploadTimeoutSeconds: { kind: 'int', min: 1, max: 3600, default: 300, env: 'VEIL_FHE_UPLOAD_TIMEOUT_SECONDS', doc: 'a key upload not complete within this time is refused (upload_timeout); 18 MB of digits keys need 60 s at 2.4 Mbit/s' },
    // Sessions: every one costs sessionCostBytes on top of its keys (a keyless session is not free), and the count is capped.
    maxSessions: { kind: 'int', min: 1, max: 1_000_000, default: 10_000, env: 'VEIL_FHE_MAX_SESSIONS', doc: 'FHE sessions held at once; beyond it the least recently used are evicted' },
    maxSessionsPerCaller: { kind: 'int', min: 1, max: 1_000_000, default: 64, env: 'VEIL_FHE_MAX_SESSIONS_PER_CALLER', doc: 'sessions one caller may hold; a new one beyond it evicts that caller\'s least recently used (never another caller\'s)' },
    sessionCostBytes: { kind: 'int', min: 0, max: 64 * MiB, default: 64 * 1024, env: 'VEIL_FHE_SESSION_COST_BYTES', doc: 'fixed bytes each session counts against sessionStoreBytes besides its keys' },
  },
  // TEE mode (issue #5): an in-process node on the SIMULATED platform by default, plus remote `veil worker` nodes.
  // The gateway attests every node itself against this policy before routing to it (gateway/tee/).
  tee: {
    enabled: { kind: 'bool', default: true, env: 'VEIL_TEE_ENABLED', doc: 'serve TEE mode (veil.v1.Tee) at all' },
    models: {
      kind: 'list', default: ['breast-cancer-lr', 'digits-mlp', 'digits-relu-mlp', 'digits-cnn'], env: 'VEIL_TEE_MODELS',
      doc: 'bundled model ids (or .onnx paths) the in-process TEE node serves; remote nodes announce their own',
    },
    // issue #10: chat and embedding models (Hugging Face ONNX export folders) the in-process node serves.
    languageModels: {
      kind: 'list', default: ['toy-chat-kjv', 'toy-chat-mqa-kjv', 'toy-embed-kjv'], env: 'VEIL_TEE_LANGUAGE_MODELS',
      doc: 'language models of the in-process TEE node: bundled ids, folders (their name is the id) or "<id>=<folder>"; [] = none',
    },
    languageHost: {
      kind: 'enum', values: ['worker', 'in-process'], default: 'worker', env: 'VEIL_TEE_LANGUAGE_HOST',
      doc: 'where the in-process node runs language-model steps: "worker" (own thread; the gateway\'s event loop never waits on a model step) or "in-process"',
    },
    streamWindowMs: {
      kind: 'int', min: 0, max: 1000, default: 16, env: 'VEIL_TEE_STREAM_WINDOW_MS',
      doc: 'a streamed completion of the in-process node sends the text generated in each window of this many ms as one event, the first token at once: fewer sealed events per hop, and token timing hidden from whoever watches the stream; 0 = one event per token',
    },
    local: { kind: 'bool', default: true, env: 'VEIL_TEE_LOCAL', doc: 'run one in-process TEE node (SIMULATED platform: development only)' },
    localThreads: { kind: 'int', min: 1, max: 256, default: 1, env: 'VEIL_TEE_LOCAL_THREADS', doc: 'onnxruntime worker threads of the in-process TEE node' },
    nodes: { kind: 'list', default: [], env: 'VEIL_TEE_NODES', doc: 'host:port of remote TEE worker nodes (`veil worker`); comma-separated in env' },
    allowSimulated: {
      kind: 'bool', default: true, env: 'VEIL_TEE_ALLOW_SIMULATED',
      doc: 'route to nodes whose evidence is SIMULATED (proves nothing about hardware); the dev default, set false in production',
    },
    measurements: {
      kind: 'list', default: ['any'], env: 'VEIL_TEE_MEASUREMENTS',
      doc: 'accepted measurements per platform: "<platform>:<hex>" or "<platform>:any" (sev-snp, tdx, nitro, simulated); ["any"] = every platform, development profile only',
    },
    // issue #9: SIMULATED evidence is trusted only with a pinned key. The in-process node's key is pinned automatically.
    simulatedKeys: {
      kind: 'list', default: [], env: 'VEIL_TEE_SIMULATED_KEYS',
      doc: 'verifier keys (hex SPKI DER, as `veil worker --platform simulated` prints them) of remote SIMULATED nodes the gateway accepts; a remote simulated node with any other key is quarantined',
    },
    debug: { kind: 'enum', values: ['forbid', 'allow'], default: 'forbid', env: 'VEIL_TEE_DEBUG', doc: 'whether debug-mode enclaves may be routed to' },
    maxEvidenceAgeSeconds: { kind: 'int', min: 10, max: 7 * 24 * 3600, default: 600, env: 'VEIL_TEE_MAX_EVIDENCE_AGE_SECONDS', doc: 'a node whose last verified evidence is older is quarantined until it re-attests' },
    refreshSeconds: { kind: 'int', min: 1, max: 24 * 3600, default: 120, env: 'VEIL_TEE_REFRESH_SECONDS', doc: 'how often the gateway re-attests every node (fresh nonce)' },
    healthCheckSeconds: { kind: 'int', min: 1, max: 3600, default: 5, env: 'VEIL_TEE_HEALTH_CHECK_SECONDS', doc: 'how often the gateway probes every node; a node that does not answer is quarantined' },
    nodeCaFile: {
      kind: 'string', default: 'none', env: 'VEIL_TEE_NODE_CA_FILE',
      doc: 'PEM CA that signed the remote TEE nodes\' TLS server certificates ("none" = plaintext link; required in production when nodes are set)',
    },
    clientCertFile: { kind: 'string', default: 'none', env: 'VEIL_TEE_CLIENT_CERT_FILE', doc: 'PEM client certificate the gateway presents to TEE nodes (mutual TLS)' },
    clientKeyFile: { kind: 'string', default: 'none', env: 'VEIL_TEE_CLIENT_KEY_FILE', doc: 'PEM private key of clientCertFile' },
    nodeTimeoutMs: { kind: 'int', min: 100, max: 600_000, default: 30_000, env: 'VEIL_TEE_NODE_TIMEOUT_MS', doc: 'deadline of a relayed node call when the client set none (and of probes, capped at 5 s)' },
    // issue #9 (TEE DoS bounds): the link's message limit must equal each `veil worker --max-message-bytes`.
    maxMessageBytes: {
      kind: 'int', min: 64 * 1024, max: 1024 * MiB, default: 64 * MiB, env: 'VEIL_TEE_MAX_MESSAGE_BYTES',
      doc: 'largest gRPC message between the gateway and a remote TEE node; must equal the nodes\' veil worker --max-message-bytes (a mismatch is logged and relays are bounded by the smaller)',
    },
    evidencePerCallerPerMinute: {
      kind: 'int', min: 1, max: 1_000_000, default: 600, env: 'VEIL_TEE_EVIDENCE_PER_CALLER_PER_MINUTE',
      doc: 'Tee.GetEvidence calls one caller (API key, or client address) may make per minute; each makes a node produce fresh evidence',
    },
    evidenceBurst: { kind: 'int', min: 1, max: 10_000, default: 60, env: 'VEIL_TEE_EVIDENCE_BURST', doc: 'Tee.GetEvidence calls one caller may make at once after being idle' },
    evidenceConcurrencyPerNode: {
      kind: 'int', min: 1, max: 1_000, default: 4, env: 'VEIL_TEE_EVIDENCE_CONCURRENCY_PER_NODE',
      doc: 'client-requested evidence calls in flight per node (the gateway\'s own re-attestation is never counted, so clients cannot starve it)',
    },
  },
  // API keys for clients (issue #9): created and revoked with `veil keys`, stored only as hashes.
  auth: {
    mode: {
      kind: 'enum', values: ['off', 'api-keys'], default: 'off', env: 'VEIL_AUTH_MODE',
      doc: 'off (embedded default: anyone who reaches the port may call) or api-keys (every veil.v1 call needs a key; required in production)',
    },
    keysFile: {
      kind: 'string', default: 'default', env: 'VEIL_AUTH_KEYS_FILE',
      doc: 'where API key hashes live ("default" = <dataDir>/api-keys.json); never holds a key itself',
    },
  },
  telemetry: {
    prometheusPort: {
      kind: 'int', min: 0, max: 65535, default: 0, env: 'VEIL_TELEMETRY_PROMETHEUS_PORT',
      doc: 'serve Prometheus metrics (RPC counts and latencies by method and outcome) on this port; 0 = off',
    },
    prometheusHost: { kind: 'string', default: '127.0.0.1', env: 'VEIL_TELEMETRY_PROMETHEUS_HOST', doc: 'address the metrics endpoint binds' },
  },
  log: {
    level: { kind: 'enum', values: ['debug', 'info', 'warn', 'error', 'silent'], default: 'info', env: 'VEIL_LOG_LEVEL', doc: 'log threshold' },
    format: { kind: 'enum', values: ['text', 'json'], default: 'text', env: 'VEIL_LOG_FORMAT', doc: 'log line format' },
  },
  chain: {
    enabled: { kind: 'bool', default: true, env: 'VEIL_CHAIN_ENABLED', doc: 'publish TEE attestations to the on-chain registry' },
    rpcUrl: {
      kind: 'string', default: 'embedded', env: 'VEIL_CHAIN_RPC_URL', secret: true,
      doc: '"embedded" starts a local anvil dev chain under dataDir; otherwise the JSON-RPC URL of any EVM chain',
    },
    registryAddress: { kind: 'string', default: 'deploy', env: 'VEIL_CHAIN_REGISTRY_ADDRESS', doc: 'registry contract address; "deploy" only with the embedded chain' },
    keyFile: {
      kind: 'string', default: 'none', env: 'VEIL_CHAIN_KEY_FILE',
      doc: 'file holding the operator private key for a non-embedded chain (or set VEIL_CHAIN_PRIVATE_KEY); never in the config file',
    },
    attestationTtlSeconds: { kind: 'int', min: 60, max: 30 * 24 * 3600, default: 3600, env: 'VEIL_CHAIN_ATTESTATION_TTL_SECONDS', doc: 'expiry of each published attestation' },
  },
  // issue #11: per-call billing over payment channels (payments/). On by default in development: the embedded dev
  // chain takes the payments and `veil demo`, `veil proxy` and the SDK's dev payer pay from a funded dev account, so
  // the zero-config path shows money flowing. Channels live on chain, so the default follows chain.enabled
  // (applyPaymentsDefault); the production profile starts it off.
  payments: {
    enabled: {
      kind: 'bool', default: true, env: 'VEIL_PAYMENTS_ENABLED',
      doc: 'charge calls (FHE predictions, TEE calls and token streams) over x402 payment channels; the default follows chain.enabled (off without a chain) and is off in production',
    },
    ledger: { kind: 'enum', values: ['sqlite', 'postgres'], default: 'sqlite', env: 'VEIL_PAYMENTS_LEDGER', doc: '"sqlite" (one gateway; a file under dataDir) or "postgres" (replicas sharing one database)' },
    sqliteSynchronous: {
      kind: 'enum', values: ['full', 'normal'], default: 'full', env: 'VEIL_PAYMENTS_SQLITE_SYNCHRONOUS',
      doc: '"full": every charge is fsynced before its answer leaves (survives power loss); "normal": survives a crash of the gateway, a power loss can forfeit the last charges (the operator\'s, never a payer\'s money), 1–3 ms faster per paid call',
    },
    sqliteFile: { kind: 'string', default: 'default', env: 'VEIL_PAYMENTS_SQLITE_FILE', doc: 'the SQLite ledger file; "default" = <dataDir>/payments.sqlite' },
    postgresUrl: { kind: 'string', default: 'none', env: 'VEIL_PAYMENTS_POSTGRES_URL', secret: true, doc: 'PostgreSQL connection string of the shared ledger (ledger = postgres)' },
    pricesFile: { kind: 'string', default: 'default', env: 'VEIL_PAYMENTS_PRICES_FILE', doc: 'JSON price table (the shape GET /v1/pricing serves); "default" = the built-in development prices' },
    contractAddress: { kind: 'string', default: 'deploy', env: 'VEIL_PAYMENTS_CONTRACT_ADDRESS', doc: 'VeilPaymentChannels address; "deploy" only with the embedded chain (deployed once, reused)' },
    tokenAddress: { kind: 'string', default: 'deploy', env: 'VEIL_PAYMENTS_TOKEN_ADDRESS', doc: 'the ERC-20 the gateway takes; "deploy" = the dev token vUSD on the embedded chain' },
    receiver: { kind: 'string', default: 'dev', env: 'VEIL_PAYMENTS_RECEIVER', doc: 'the address channels pay; "dev" = dev account 2 on the embedded chain' },
    minWithdrawDelaySeconds: { kind: 'int', min: 900, max: 30 * 24 * 3600, default: 3600, env: 'VEIL_PAYMENTS_MIN_WITHDRAW_DELAY_SECONDS', doc: 'shortest channel withdraw delay accepted: the time the gateway has to claim after a payer starts leaving' },
    reservationTtlSeconds: { kind: 'int', min: 10, max: 24 * 3600, default: 600, env: 'VEIL_PAYMENTS_RESERVATION_TTL_SECONDS', doc: 'the longest one call holds its reservation (renewed by its gateway while it runs); a wedged call stops holding credit after this' },
    reservationLeaseSeconds: { kind: 'int', min: 3, max: 3600, default: 15, env: 'VEIL_PAYMENTS_RESERVATION_LEASE_SECONDS', doc: 'how long a reservation outlives its gateway\'s last renewal: the retry of a call cut by a dead replica waits at most this' },
    confirmations: { kind: 'int', min: 0, max: 1000, default: 0, env: 'VEIL_PAYMENTS_CONFIRMATIONS', doc: 'blocks a deposit must be under before it counts (reorg safety; 0 on the embedded chain)' },
    settlementKeyFile: {
      kind: 'string', default: 'dev', env: 'VEIL_PAYMENTS_SETTLEMENT_KEY_FILE',
      doc: 'file with the receiver\'s private key the settlement worker claims with (or VEIL_PAYMENTS_SETTLEMENT_PRIVATE_KEY); "dev" = dev account 2 on the embedded chain; "none" = do not settle here',
    },
    claimThreshold: { kind: 'string', default: '1000000', env: 'VEIL_PAYMENTS_CLAIM_THRESHOLD', doc: 'claim a channel once its unclaimed charges reach this many atomic units (1000000 = 1 vUSD)' },
    claimIntervalSeconds: { kind: 'int', min: 10, max: 7 * 24 * 3600, default: 3600, env: 'VEIL_PAYMENTS_CLAIM_INTERVAL_SECONDS', doc: 'claim every channel with unclaimed charges at least this often' },
    watchIntervalSeconds: { kind: 'int', min: 1, max: 3600, default: 5, env: 'VEIL_PAYMENTS_WATCH_INTERVAL_SECONDS', doc: 'how often the chain is read for deposits and withdrawals, and thresholds are checked' },
    streamWindowTokens: { kind: 'int', min: 1, max: 1_000_000, default: 64, env: 'VEIL_PAYMENTS_STREAM_WINDOW_TOKENS', doc: 'completion tokens a paid stream\'s voucher buys ahead (its credit window); at the edge it pauses for a top-up' },
    streamPauseSeconds: { kind: 'int', min: 1, max: 600, default: 30, env: 'VEIL_PAYMENTS_STREAM_PAUSE_SECONDS', doc: 'how long a paid stream waits for the client\'s top-up voucher before it ends (charged what it delivered)' },
  },
  shutdownGraceSeconds: {
    kind: 'int', min: 0, max: 3600, default: 25, env: 'VEIL_SHUTDOWN_GRACE_SECONDS',
    doc: 'on SIGTERM/SIGINT: stop accepting, let calls and streams in flight finish for up to this long (Kubernetes waits 30 s by default), then cut what is left, flush the ledger and exporters, exit 0',
  },
  dataDir: { kind: 'string', default: path.join(REPO_ROOT, '.veil'), env: 'VEIL_DATA_DIR', doc: 'where the gateway keeps its local state (never payloads or keys)' },
} as const satisfies ConfigTree;

export type ConfigTree = { [key: string]: ConfigField | ConfigTree };

type LeafValue<F> = F extends { kind: 'int' } ? number
  : F extends { kind: 'bool' } ? boolean
  : F extends { kind: 'list' } ? readonly string[]
  : F extends { kind: 'enum'; values: readonly (infer V)[] } ? V
  : string;

type ConfigOf<T> = { readonly [K in keyof T]: T[K] extends { kind: string } ? LeafValue<T[K]> : ConfigOf<T[K]> };

/** The validated, frozen configuration object. */
export type VeilConfig = ConfigOf<typeof CONFIG_SCHEMA>;

export function isConfigField(node: ConfigField | ConfigTree): node is ConfigField {
  return typeof (node as ConfigField).kind === 'string' && typeof (node as ConfigField).env === 'string';
}

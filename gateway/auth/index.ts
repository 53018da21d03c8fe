// Public face of gateway/auth/: API keys (hashes only on disk, constant-time check, scopes, per-key rate limits).
export { API_KEY_MODES } from './call-guard';
export type { ApiKeyMode, CallGuard, RpcScope } from './call-guard';
export { apiKeyId, bearerToken, generateApiKey, hashApiKey } from './api-key';
export type { GeneratedApiKey } from './api-key';
export { KeysFileError, MODEL_ID_PATTERN, parseKeysFile, readKeysFile, resolveKeysFile, updateKeysFile, writeKeysFile } from './keys-file';
export type { ApiKeyRecord, KeysFile } from './keys-file';
export { createTokenBucket } from './token-bucket';
export type { TokenBucket } from './token-bucket';
export { createApiKeyGuard } from './create-api-key-guard';
export type { ApiKeyGuard, CreateApiKeyGuardOptions, GuardTimers } from './create-api-key-guard';

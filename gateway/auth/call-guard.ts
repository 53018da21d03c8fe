/** The two modes a key can be scoped to. */
export const API_KEY_MODES = ['fhe', 'tee'] as const;
export type ApiKeyMode = (typeof API_KEY_MODES)[number];

/**
 * What one RPC touches, declared by its handler (`handleUnary(..., { scope })`): always the mode, and the model when
 * the request names one (a Predict names a session, whose model was checked when the session was opened).
 */
export type RpcScope = { mode: ApiKeyMode; model?: string };

/**
 * The authentication step the RPC wrapper runs before every veil.v1 handler (`gateway/grpc/handle-call.ts`).
 * Implemented by `createApiKeyGuard`; absent when `auth.mode` is off.
 */
export type CallGuard = {
  /**
   * Identifies the caller from the call's `authorization` metadata value and counts the call against that key's
   * rate limit. Returns the key id (the call's principal).
   * @throws VeilError `unauthenticated` (no, malformed, unknown or revoked key) or `rate_limited`
   */
  admit(authorization: string | undefined): string;
  /** @throws VeilError `permission_denied` unless the key is scoped to this mode and model. */
  authorize(principal: string, scope: RpcScope): void;
};

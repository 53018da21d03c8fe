import type { LanguageModelInfo, LanguageOperation } from './create-language-host';
import type { ChatUsage } from './generate-chat';
import type { LlmErrorCode } from './llm-error';

/** Messages between startLanguageHostWorker and its worker (structured clone; JSON-shaped values only). */
export type HostRequest =
  | { t: 'run'; id: number; operation: LanguageOperation; modelId: string; request: unknown }
  | { t: 'stream'; id: number; modelId: string; request: unknown }
  | { t: 'cancel'; id: number }
  | { t: 'close' };

export type WireError = { llm: true; code: LlmErrorCode; message: string; details?: Record<string, unknown> } | { llm: false; code: 'internal'; message: string };

export type HostReply =
  | { t: 'ready'; models: LanguageModelInfo[] }
  | { t: 'failed'; error: WireError }
  | { t: 'result'; id: number; value: object }
  | { t: 'chunk'; id: number; value: object; usage?: ChatUsage }
  | { t: 'end'; id: number }
  | { t: 'error'; id: number; error: WireError }
  | { t: 'closed' };

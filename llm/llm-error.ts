/** Stable codes of the language-model runtime; the gateway maps them once (gateway/errors). */
export type LlmErrorCode =
  /** A model folder is missing a file or a field, or its ONNX graph does not have the names the layout promises. */
  | 'llm_model_invalid'
  /** The prompt (plus the tokens asked for) does not fit the model's context window. */
  | 'context_length_exceeded'
  /** A request parameter is out of range or of the wrong type; the message names it. */
  | 'invalid_input'
  /** The caller cancelled, or its deadline passed, while the model was generating. */
  | 'cancelled';

/** An error of `llm/`: a code plus a safe message (it names files, fields and sizes, never prompt text). */
export class LlmError extends Error {
  override readonly name = 'LlmError';
  constructor(
    readonly code: LlmErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

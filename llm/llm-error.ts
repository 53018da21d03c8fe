/** Stable codes of the language-model runtime; the gateway maps them once (gateway/errors). */
export type LlmErrorCode =
  /** A model folder is missing a file or a field, or its ONNX graph does not have the names the layout promises. */
  | 'llm_model_invalid'
  /** The prompt (plus the tokens asked for) does not fit the model's context window. */
  | 'context_length_exceeded'
  /** A request parameter is out of range or of the wrong type; the message and `param` name it. */
  | 'invalid_input'
  /** A well-formed OpenAI parameter (or value) this runtime does not implement, such as `n > 1` or `tools`; `param` names it. */
  | 'unsupported_parameter'
  /** No model of that id (or of that kind) is loaded. */
  | 'model_not_found'
  /** The caller cancelled, or its deadline passed, or the host closed, while the model was working. */
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

  /** The request parameter at fault (OpenAI's `error.param`: `temperature`, `messages[2].content`, …), if one is. */
  get param(): string | undefined {
    const p = this.details?.param;
    return typeof p === 'string' ? p : undefined;
  }
}

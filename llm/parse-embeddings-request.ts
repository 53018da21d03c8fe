import { argumentName, describeType, isAbsent, isObject, invalid, unsupported } from './request-fields';

/** An OpenAI `POST /v1/embeddings` body, read into what the encoder takes. */
export type EmbeddingsRequest = {
  model: string;
  /** One text per vector, in order (a single string is a list of one). */
  input: string[];
  /** `base64` = each vector's little-endian float32 bytes, base64-encoded, as OpenAI sends them. */
  encodingFormat: 'float' | 'base64';
  /** Asked-for vector length; the host refuses any but the model's own. */
  dimensions?: number;
};

/** OpenAI's own limit on the number of inputs in one request. */
export const MAX_EMBEDDING_INPUTS = 2048;

const KNOWN = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user']);

/**
 * Reads and checks an OpenAI embeddings request body, naming the parameter at fault. Token-id inputs (a list of
 * integers, or of lists of them) are refused rather than embedded: OpenAI reads them as tiktoken ids, so a client
 * that sends them (LangChain does by default) computed them with a tokenizer that is not this model's, and
 * embedding them would return vectors of unrelated text without any error.
 */
export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  if (!isObject(body)) throw invalid('', `the request body must be a JSON object (got ${describeType(body)})`);
  for (const key of Object.keys(body)) {
    if (!KNOWN.has(key)) throw unsupported(argumentName(key), `Unrecognized request argument supplied: ${argumentName(key)}`);
  }
  if (typeof body.model !== 'string' || body.model.length === 0) throw invalid('model', 'model must be a non-empty string');
  if (!isAbsent(body.user) && typeof body.user !== 'string') throw invalid('user', `user must be a string (got ${describeType(body.user)})`);

  const raw = body.input;
  let input: string[];
  if (typeof raw === 'string') input = [raw];
  else if (Array.isArray(raw)) {
    if (raw.length === 0) throw invalid('input', 'input must not be an empty list');
    if (raw.some((x) => typeof x === 'number' || Array.isArray(x))) {
      throw unsupported('input', "token-id input is not supported: this model's tokenizer is not tiktoken's; send the text as a string or a list of strings");
    }
    raw.forEach((x, i) => { if (typeof x !== 'string') throw invalid('input', `input[${i}] must be a string (got ${describeType(x)})`); });
    input = raw as string[];
  } else throw invalid('input', `input must be a string or a list of strings (got ${describeType(raw)})`);
  if (input.length > MAX_EMBEDDING_INPUTS) throw invalid('input', `input may hold at most ${MAX_EMBEDDING_INPUTS} strings (got ${input.length})`);
  input.forEach((x, i) => { if (x.length === 0) throw invalid('input', `input[${i}] must be a non-empty string`); });

  const format = body.encoding_format;
  if (!isAbsent(format) && format !== 'float' && format !== 'base64') throw invalid('encoding_format', 'encoding_format must be "float" or "base64"');
  const dimensions = body.dimensions;
  if (!isAbsent(dimensions) && (typeof dimensions !== 'number' || !Number.isSafeInteger(dimensions) || dimensions < 1)) {
    throw invalid('dimensions', `dimensions must be a positive integer (got ${describeType(dimensions)})`);
  }
  return { model: body.model, input, encodingFormat: format === 'base64' ? 'base64' : 'float', dimensions: isAbsent(dimensions) ? undefined : dimensions };
}

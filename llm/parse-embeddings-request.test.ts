import { LlmError } from './llm-error';
import { MAX_EMBEDDING_INPUTS, parseEmbeddingsRequest } from './parse-embeddings-request';

const refusal = (body: unknown) => {
  try {
    parseEmbeddingsRequest(body);
  } catch (err) {
    if (!(err instanceof LlmError)) throw err;
    return { code: err.code, param: err.param, message: err.message };
  }
  throw new Error('expected a refusal');
};

describe('parseEmbeddingsRequest', () => {
  it('reads a string, a list of strings, both formats and dimensions', () => {
    expect(parseEmbeddingsRequest({ model: 'e', input: 'a' })).toEqual({ model: 'e', input: ['a'], encodingFormat: 'float', dimensions: undefined });
    expect(parseEmbeddingsRequest({ model: 'e', input: ['a', 'b'], encoding_format: 'base64', dimensions: 64, user: 'u' })).toEqual({ model: 'e', input: ['a', 'b'], encodingFormat: 'base64', dimensions: 64 });
    expect(parseEmbeddingsRequest({ model: 'e', input: 'a', encoding_format: null, dimensions: null }).encodingFormat).toBe('float');
  });

  it.each([
    ['unsupported_parameter', 'input', { model: 'e', input: [101, 2023, 102] }],
    ['unsupported_parameter', 'input', { model: 'e', input: [[101, 102], [101, 103]] }],
    ['unsupported_parameter', 'truncate', { model: 'e', input: 'a', truncate: 'END' }],
    ['invalid_input', 'model', { input: 'a' }],
    ['invalid_input', 'input', { model: 'e' }],
    ['invalid_input', 'input', { model: 'e', input: [] }],
    ['invalid_input', 'input', { model: 'e', input: '' }],
    ['invalid_input', 'input', { model: 'e', input: ['a', null] }],
    ['invalid_input', 'input', { model: 'e', input: Array(MAX_EMBEDDING_INPUTS + 1).fill('a') }],
    ['invalid_input', 'encoding_format', { model: 'e', input: 'a', encoding_format: 'float16' }],
    ['invalid_input', 'dimensions', { model: 'e', input: 'a', dimensions: 0 }],
    ['invalid_input', 'user', { model: 'e', input: 'a', user: {} }],
  ])('error: %s names %s', (code, param, body) => {
    expect(refusal(body)).toMatchObject({ code, param });
  });
});

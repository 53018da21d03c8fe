import { LlmError } from './llm-error';
import { parseChatCompletionRequest } from './parse-chat-completion-request';

const base = { model: 'toy', messages: [{ role: 'user', content: 'hi' }] };
const refusal = (body: unknown): { code: string; param: string | undefined; message: string } => {
  try {
    parseChatCompletionRequest(body);
  } catch (err) {
    if (!(err instanceof LlmError)) throw err;
    return { code: err.code, param: err.param, message: err.message };
  }
  throw new Error('expected a refusal');
};

describe('parseChatCompletionRequest', () => {
  it('reads OpenAI defaults: temperature 1, top_p 1, no stop, no max, not streaming', () => {
    expect(parseChatCompletionRequest(base)).toEqual({
      model: 'toy', stream: false, includeUsage: false, includeObfuscation: false,
      chat: { messages: [{ role: 'user', content: 'hi' }], temperature: 1, topP: 1, stop: [], maxTokens: undefined, seed: undefined },
    });
  });

  it('reads every supported parameter, and null as absent', () => {
    const r = parseChatCompletionRequest({
      ...base, temperature: 0.7, top_p: 0.9, seed: -3, max_completion_tokens: 12, stop: 'Amen', stream: true,
      stream_options: { include_usage: true }, user: 'u-1', n: 1, logprobs: false, tools: null, frequency_penalty: 0,
      presence_penalty: null, response_format: { type: 'text' }, logit_bias: {}, modalities: ['text'], store: false,
    });
    expect(r).toEqual({ model: 'toy', stream: true, includeUsage: true, includeObfuscation: true, chat: { messages: base.messages, temperature: 0.7, topP: 0.9, seed: -3, maxTokens: 12, stop: ['Amen'] } });
    expect(parseChatCompletionRequest({ ...base, max_tokens: 5, max_completion_tokens: 5, stop: ['a', 'b'] }).chat).toMatchObject({ maxTokens: 5, stop: ['a', 'b'] });
  });

  it('include_obfuscation is on by default for streams, as OpenAI has it, and can be turned off', () => {
    expect(parseChatCompletionRequest({ ...base, stream: true }).includeObfuscation).toBe(true);
    expect(parseChatCompletionRequest({ ...base, stream: true, stream_options: { include_usage: true } }).includeObfuscation).toBe(true);
    expect(parseChatCompletionRequest({ ...base, stream: true, stream_options: { include_obfuscation: false } }).includeObfuscation).toBe(false);
  });

  it('maps developer to system and joins text parts with newlines', () => {
    const r = parseChatCompletionRequest({
      ...base, messages: [{ role: 'developer', content: 'be brief' }, { role: 'user', name: 'ann', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }, { role: 'assistant', content: 'ok', refusal: null, tool_calls: [] }],
    });
    expect(r.chat.messages).toEqual([{ role: 'system', content: 'be brief' }, { role: 'user', content: 'a\nb' }, { role: 'assistant', content: 'ok' }]);
  });

  it('top_p 0 (only the most likely token) is greedy decoding', () => {
    expect(parseChatCompletionRequest({ ...base, top_p: 0, temperature: 1.5 }).chat).toMatchObject({ temperature: 0, topP: 1 });
  });

  it.each([
    ['n', { n: 2 }],
    ['tools', { tools: [{ type: 'function', function: { name: 'f' } }] }],
    ['tool_choice', { tool_choice: 'required' }],
    ['functions', { functions: [{ name: 'f' }] }],
    ['function_call', { function_call: { name: 'f' } }],
    ['logprobs', { logprobs: true }],
    ['top_logprobs', { top_logprobs: 3 }],
    ['response_format', { response_format: { type: 'json_object' } }],
    ['logit_bias', { logit_bias: { 50256: -100 } }],
    ['audio', { audio: { voice: 'alloy', format: 'wav' } }],
    ['modalities', { modalities: ['text', 'audio'] }],
    ['frequency_penalty', { frequency_penalty: 0.5 }],
    ['presence_penalty', { presence_penalty: -1 }],
    ['reasoning_effort', { reasoning_effort: 'low' }],
    ['prediction', { prediction: { type: 'content', content: 'x' } }],
    ['store', { store: true }],
    ['web_search_options', { web_search_options: {} }],
    ['max_token', { max_token: 5 }],
    ['stream_options.include_everything', { stream: true, stream_options: { include_everything: true } }],
    ['messages[0].role', { messages: [{ role: 'tool', content: 'x', tool_call_id: 'c' }] }],
    ['messages[0].tool_calls', { messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c' }] }] }],
    ['messages[0].content[1].type', { messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'image_url', image_url: { url: 'http://x' } }] }] }],
    ['messages[0].cache_control', { messages: [{ role: 'user', content: 'x', cache_control: {} }] }],
  ])('error: unsupported_parameter names %s', (param, extra) => {
    expect(refusal({ ...base, ...extra })).toMatchObject({ code: 'unsupported_parameter', param });
  });

  it.each([
    ['', 'not an object'],
    ['model', { ...base, model: 7 }],
    ['messages', { ...base, messages: [] }],
    ['messages[0]', { ...base, messages: ['hi'] }],
    ['messages[0].role', { ...base, messages: [{ role: 'robot', content: 'x' }] }],
    ['messages[0].content', { ...base, messages: [{ role: 'user', content: 42 }] }],
    ['messages[0].content', { ...base, messages: [{ role: 'assistant', content: null }] }],
    ['messages[0].content', { ...base, messages: [{ role: 'user', content: [] }] }],
    ['messages[0].content[0].text', { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 3 }] }] }],
    ['messages[0].refusal', { ...base, messages: [{ role: 'user', content: 'x', refusal: 'no' }] }],
    ['temperature', { ...base, temperature: '0.5' }],
    ['temperature', { ...base, temperature: 2.5 }],
    ['top_p', { ...base, top_p: 1.5 }],
    ['seed', { ...base, seed: 1.5 }],
    ['max_tokens', { ...base, max_tokens: 0 }],
    ['max_completion_tokens', { ...base, max_completion_tokens: '10' }],
    ['max_completion_tokens', { ...base, max_tokens: 5, max_completion_tokens: 6 }],
    ['stop', { ...base, stop: 5 }],
    ['stop', { ...base, stop: ['a', 'b', 'c', 'd', 'e'] }],
    ['stream', { ...base, stream: 'yes' }],
    ['stream_options', { ...base, stream_options: { include_usage: true } }],
    ['stream_options.include_usage', { ...base, stream: true, stream_options: { include_usage: 1 } }],
    ['user', { ...base, user: 5 }],
  ])('error: invalid_input names %s', (param, body) => {
    const r = refusal(body);
    expect(r.code).toBe('invalid_input');
    expect(r.param).toBe(param === '' ? undefined : param);
  });

  it('error messages never quote the request text, even in field names', () => {
    const secret = 'CANARY-7f3a the launch codes';
    const bodies = [
      { ...base, messages: [{ role: secret, content: secret }] },
      { ...base, messages: [{ role: 'user', content: [{ type: secret, text: secret }] }] },
      { ...base, [secret]: 1 },
      { ...base, messages: [{ role: 'user', content: 'x', [secret]: 1 }] },
      { ...base, temperature: secret },
      { ...base, stop: [secret, secret, secret, secret, secret] },
      { ...base, stream: true, stream_options: { [secret]: true } },
    ];
    for (const body of bodies) {
      const r = refusal(body);
      expect(`${r.message} ${r.param}`).not.toMatch(/CANARY|launch/);
    }
  });
});

import path from 'node:path';
import fc from 'fast-check';
import { createModelTokenizer } from './create-model-tokenizer';
import { readModelFolder } from './read-model-folder';

const MODELS = path.resolve(__dirname, '..', 'models', 'llm');

describe.each(['toy-chat-kjv', 'toy-chat-mqa-kjv', 'toy-embed-kjv'])('tokenizer of %s', (name) => {
  const tokenizer = createModelTokenizer(readModelFolder(path.join(MODELS, name)));

  it('leastTokens never exceeds the real token count, whatever the text', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.string({ unit: fc.constantFrom('a', ' ', '\t', '\u3000', '\uFEFF', '\u2028', '©', 'é', 'ｶ', 'ﾞ', '\u0301', '<|im_start|>', '\n', '!', '1', '\u{1F600}', 'ﬃ', 'İ'), maxLength: 400 }),
      fc.constantFrom('And the LORD spake unto Moses, saying, '.repeat(40), 'x'.repeat(2000), 'x'.repeat(101), '.'.repeat(2000), 'a\u00a0b\u0085c', ' '.repeat(2000)),
    );
    fc.assert(fc.property(text, (t) => tokenizer.leastTokens(t) <= tokenizer.encode(t, { addSpecialTokens: false }).length), { numRuns: 300 });
  });

  it('leastTokens grows with the text, so a huge prompt is known too long without tokenizing it', () => {
    const huge = 'And the LORD spake unto Moses, saying, '.repeat(25_000);
    expect(tokenizer.leastTokens(huge)).toBeGreaterThan(10_000);
    expect(tokenizer.leastTokens('')).toBe(0);
  });
});

import { wellFormedStatusText } from './well-formed-status-text';

describe('wellFormedStatusText', () => {
  it('replaces lone surrogates (a pair cut in half) and keeps whole pairs', () => {
    const emoji = '\u{1F600}';
    expect(wellFormedStatusText(`model ${emoji.slice(0, 1)}`)).toBe('model \uFFFD');
    expect(wellFormedStatusText(`${emoji.slice(1)}x`)).toBe('\uFFFDx');
    expect(wellFormedStatusText(`ok ${emoji}`)).toBe(`ok ${emoji}`);
    // What grpc-js does with the status message: must not throw.
    expect(() => encodeURI(wellFormedStatusText(`a${emoji.slice(0, 1)}`))).not.toThrow();
    expect(() => encodeURI(`a${emoji.slice(0, 1)}`)).toThrow(URIError);
  });
});

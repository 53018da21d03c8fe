import { createStopMatcher } from './create-stop-matcher';

function run(stops: string[], chunks: string[]) {
  const m = createStopMatcher(stops);
  let out = '';
  for (const c of chunks) {
    const r = m.push(c);
    out += r.emit;
    if (r.stopped) return { out, stopped: true };
  }
  return { out: out + m.flush(), stopped: false };
}

describe('createStopMatcher', () => {
  it('passes text through when there are no stop sequences', () => {
    expect(run([], ['ab', 'cd'])).toEqual({ out: 'abcd', stopped: false });
  });
  it('stops at a sequence split across chunks and never emits it or what follows', () => {
    expect(run(['END'], ['hello E', 'N', 'D and more'])).toEqual({ out: 'hello ', stopped: true });
  });
  it('holds back a possible prefix, then releases it when it turns out not to be one', () => {
    const m = createStopMatcher(['\n\n']);
    expect(m.push('a\n')).toEqual({ emit: 'a', stopped: false });
    expect(m.push('b')).toEqual({ emit: '\nb', stopped: false });
  });
  it('cuts at the earliest of several sequences', () => {
    expect(run(['zz', 'y'], ['axyzz'])).toEqual({ out: 'ax', stopped: true });
  });
  it('flushes held text at the end of generation', () => {
    expect(run(['STOP'], ['abc ST'])).toEqual({ out: 'abc ST', stopped: false });
  });
});

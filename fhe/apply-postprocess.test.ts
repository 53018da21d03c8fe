import { applyPostprocess } from './apply-postprocess';
import { selectCkksParameters } from './ckks-parameters';

describe('applyPostprocess', () => {
  const logits = Float64Array.from([1, 3, -2]);
  test('none copies, sigmoid and softmax are the usual functions, argmax returns the index', () => {
    expect(Array.from(applyPostprocess({ postprocess: 'none' }, logits) as Float64Array)).toEqual([1, 3, -2]);
    expect((applyPostprocess({ postprocess: 'sigmoid' }, Float64Array.from([0])) as Float64Array)[0]).toBe(0.5);
    const p = applyPostprocess({ postprocess: 'softmax' }, Float64Array.from([1000, 1000])) as Float64Array; // no overflow
    expect(Array.from(p)).toEqual([0.5, 0.5]);
    expect(applyPostprocess({ postprocess: 'argmax' }, logits)).toBe(1);
  });
});

describe('selectCkksParameters', () => {
  test('depth 1 fits N=4096 with the special prime 3 bits above q0; deeper models move up one ring at a time, spare bits raise the scale', () => {
    expect(selectCkksParameters({ depth: 1, lastUnrescaled: false })).toMatchObject({ polyModulusDegree: 4096, coeffModulusBits: [38, 30, 41] });
    expect(selectCkksParameters({ depth: 3, lastUnrescaled: false })).toMatchObject({ polyModulusDegree: 8192, coeffModulusBits: [49, 39, 39, 39, 52], scaleBits: 39 });
    expect(selectCkksParameters({ depth: 4, lastUnrescaled: false }).polyModulusDegree).toBe(8192);
    expect(selectCkksParameters({ depth: 5, lastUnrescaled: false }).polyModulusDegree).toBe(16384);
    expect(selectCkksParameters({ depth: 25, lastUnrescaled: false }).polyModulusDegree).toBe(32768);
    expect(() => selectCkksParameters({ depth: 40, lastUnrescaled: false })).toThrow(/needs multiplicative depth 40/);
  });
});

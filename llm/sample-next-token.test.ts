import { createSeededRandom } from './create-seeded-random';
import { LlmError } from './llm-error';
import { checkSamplingParameters, sampleNextToken } from './sample-next-token';

describe('sampleNextToken', () => {
  const logits = Float32Array.from([1, 3, 2, 3, -1]);
  it('is argmax at temperature 0, ties to the lowest id', () => {
    expect(sampleNextToken(logits, { temperature: 0, topP: 1 }, () => 0.99)).toBe(1);
  });
  it('is repeatable for a seed and differs across seeds', () => {
    const draw = (seed: number) => {
      const r = createSeededRandom(seed);
      return Array.from({ length: 40 }, () => sampleNextToken(logits, { temperature: 1, topP: 1 }, r));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });
  it('follows the softmax distribution', () => {
    const r = createSeededRandom(1);
    const counts = [0, 0, 0, 0, 0];
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[sampleNextToken(logits, { temperature: 1, topP: 1 }, r)]!++;
    const e = [...logits].map(Math.exp);
    const z = e.reduce((a, b) => a + b);
    e.forEach((v, i) => expect(Math.abs(counts[i]! / n - v / z)).toBeLessThan(0.015));
  });
  it('top_p keeps only the nucleus', () => {
    const r = createSeededRandom(3);
    const seen = new Set<number>();
    // softmax of [1,3,2,3,-1] ≈ 0.054, 0.397, 0.146, 0.397, 0.007: top_p 0.75 keeps the two 0.397 tokens, 0.9 adds the 0.146.
    for (let i = 0; i < 2000; i++) seen.add(sampleNextToken(logits, { temperature: 1, topP: 0.75 }, r));
    expect([...seen].sort()).toEqual([1, 3]);
    const wider = new Set<number>();
    for (let i = 0; i < 2000; i++) wider.add(sampleNextToken(logits, { temperature: 1, topP: 0.9 }, r));
    expect([...wider].sort()).toEqual([1, 2, 3]);
  });
  it('error: names the parameter out of range', () => {
    expect(() => checkSamplingParameters({ temperature: 3, topP: 1 })).toThrow(/temperature must be a number from 0 to 2/);
    expect(() => checkSamplingParameters({ temperature: 1, topP: 0 })).toThrow(LlmError);
    expect(() => checkSamplingParameters({ temperature: Number.NaN, topP: 1 })).toThrow(/temperature/);
  });
});

describe('createSeededRandom', () => {
  it('is uniform on [0, 1)', () => {
    const r = createSeededRandom(42);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const v = r();
      expect(v >= 0 && v < 1).toBe(true);
      sum += v;
    }
    expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.01);
  });
});

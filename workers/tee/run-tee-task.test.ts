import type * as ort from 'onnxruntime-node';
import { Piscina } from 'piscina';
import { runTeeTask as run, type TeeTaskSession } from './run-tee-task';

/** Successful envelopes are wrapped for Piscina to move their buffers; look inside the way Piscina does. */
const runTeeTask = async (...args: Parameters<typeof run>) => {
  const envelope = (await run(...args)) as unknown as Record<symbol, unknown>;
  return (envelope[Piscina.valueSymbol] ?? envelope) as Awaited<ReturnType<typeof run>>;
};

/** Fake ORT tensors that count their dispose() calls. */
function fakeTensor(type: string, data: Float32Array | BigInt64Array, dims: number[], disposed: string[], label: string) {
  return { type, data, dims, dispose: () => disposed.push(label) } as unknown as ort.Tensor;
}

function session(outputs: (disposed: string[]) => Record<string, ort.Tensor>, disposed: string[], fail = false): TeeTaskSession {
  return {
    inputNames: ['x'],
    outputNames: ['a', 'b'],
    run: (async () => {
      if (fail) throw new Error('shape mismatch [1,29] vs [1,30]');
      return outputs(disposed);
    }) as unknown as TeeTaskSession['run'],
  };
}

const task = () => ({ modelId: 'm', inputs: [{ name: 'x', dims: [1, 2], data: new Float32Array([1, 2]) }] });
const input = (disposed: string[]) => (data: Float32Array, dims: readonly number[]) => fakeTensor('float32', data, [...dims], disposed, 'in:x');

describe('runTeeTask', () => {
  test('success: outputs are copied, then every input and output tensor is disposed', async () => {
    const disposed: string[] = [];
    const s = session((d) => ({ a: fakeTensor('float32', new Float32Array([3]), [1], d, 'out:a'), b: fakeTensor('float32', new Float32Array([4]), [1], d, 'out:b') }), disposed);
    const envelope = await runTeeTask(s, task(), input(disposed));
    expect(envelope.ok).toBe(true);
    expect(disposed.sort()).toEqual(['in:x', 'out:a', 'out:b']);
  });

  test('error: a non-float32 output is refused and every output (and input) is still disposed', async () => {
    const disposed: string[] = [];
    const s = session((d) => ({ a: fakeTensor('float32', new Float32Array([3]), [1], d, 'out:a'), b: fakeTensor('int64', new BigInt64Array([4n]), [1], d, 'out:b') }), disposed);
    const envelope = await runTeeTask(s, task(), input(disposed));
    expect(envelope).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(disposed.sort()).toEqual(['in:x', 'out:a', 'out:b']);
  });

  test('error: when ORT rejects the inputs, the input tensors are disposed and the reason stays log-only', async () => {
    const disposed: string[] = [];
    const envelope = await runTeeTask(session(() => ({}), disposed, true), task(), input(disposed));
    expect(envelope).toMatchObject({ ok: false, error: { code: 'invalid_input', message: 'the model rejected the inputs (shape or type mismatch)' } });
    expect(disposed).toEqual(['in:x']);
  });

  test('a throwing dispose does not mask the outcome', async () => {
    const disposed: string[] = [];
    const bad = { type: 'float32', data: new Float32Array([1]), dims: [1], dispose: () => { throw new Error('boom'); } } as unknown as ort.Tensor;
    const s = session((d) => ({ a: bad, b: fakeTensor('float32', new Float32Array([4]), [1], d, 'out:b') }), disposed);
    expect((await runTeeTask(s, task(), input(disposed))).ok).toBe(true);
    expect(disposed.sort()).toEqual(['in:x', 'out:b']);
  });
});

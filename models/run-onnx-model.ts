import * as ort from 'onnxruntime-node';

/**
 * Runs a single-input, single-output float32 model on all rows in one batch and returns one output row per input.
 * Used by tests and benches to check a committed file against the training script's own evaluation.
 *
 * @example
 * const [probability] = await runOnnxModel(fs.readFileSync(file), 'x', 'probability', test.features);
 */
export async function runOnnxModel(bytes: Uint8Array, inputName: string, outputName: string, rows: Float64Array[]): Promise<Float32Array[]> {
  const width = rows[0]?.length ?? 0;
  const input = new Float32Array(rows.length * width);
  rows.forEach((row, i) => input.set(row, i * width));
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    const outputs = await session.run({ [inputName]: new ort.Tensor('float32', input, [rows.length, width]) });
    const output = outputs[outputName];
    if (!output) throw new Error(`model has no output "${outputName}"`);
    const data = output.data as Float32Array;
    const size = data.length / rows.length;
    return rows.map((_, i) => data.slice(i * size, (i + 1) * size));
  } finally {
    await session.release();
  }
}

/** Index of the largest value (first on ties), i.e. the predicted class from logits or probabilities. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

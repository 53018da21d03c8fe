/** Per-feature affine map x ↦ (x − mean) / scale. */
export type Standardiser = { mean: Float64Array; scale: Float64Array };

/**
 * Fits mean and population standard deviation per column (scikit-learn StandardScaler semantics). A constant
 * column gets scale 1 so it maps to 0 instead of dividing by zero (several digits pixels are always 0).
 *
 * @example
 * const { mean, scale } = fitStandardiser(train.features);
 */
export function fitStandardiser(rows: Float64Array[]): Standardiser {
  const first = rows[0];
  if (!first) throw new RangeError('cannot fit a standardiser on zero rows');
  const d = first.length;
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (const row of rows) for (let j = 0; j < d; j++) mean[j]! += row[j]!;
  for (let j = 0; j < d; j++) mean[j]! /= rows.length;
  for (const row of rows) for (let j = 0; j < d; j++) scale[j]! += (row[j]! - mean[j]!) ** 2;
  for (let j = 0; j < d; j++) {
    const sd = Math.sqrt(scale[j]! / rows.length);
    scale[j] = sd > 0 ? sd : 1;
  }
  return { mean, scale };
}

/** Applies a standardiser to rows (returns new rows). */
export function standardise(rows: Float64Array[], { mean, scale }: Standardiser): Float64Array[] {
  return rows.map((row) => row.map((v, j) => (v - mean[j]!) / scale[j]!));
}

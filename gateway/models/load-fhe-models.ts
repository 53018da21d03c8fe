import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  compileOnnx, compileSimilarityTable, DEFAULT_FHE_VARIANT, FHE_VARIANTS, isDistinctVariant, isFheVariant, type FhePlan, type FheVariant,
} from '../../fhe';
import { readModelCalibration, readNumericCsv, resolveModelEntry } from '../../models';

/** One compilation of a model: its plan, the spec exactly as clients receive it, and the spec's SHA-256. */
export type ServedFheVariant = {
  modelId: string;
  variant: FheVariant;
  plan: FhePlan;
  specJson: string;
  specSha256: string;
  /** Key of this plan in the worker pool (`model/variant`). */
  planKey: string;
};

export type ServedFheModel = {
  id: string;
  description: string;
  /** The variants served, default first. */
  variants: ReadonlyMap<FheVariant, ServedFheVariant>;
  /** The default variant (`blocks`, or the first served). */
  primary: ServedFheVariant;
};

/** A configured model that cannot be served; startup stops with this message rather than serving a subset. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError' as const;
  readonly code = 'model_load_failed' as const;
}

/**
 * Resolves each configured entry (a bundled model id, or a path to an .onnx file) and compiles it to a CKKS plan
 * per configured variant (a variant the model cannot take, e.g. `expanded` without a leading dense layer, is
 * skipped). Compilation happens once, at startup, never on the request path.
 */
export function loadFheModels(entries: readonly string[], variants: readonly string[] = [DEFAULT_FHE_VARIANT]): Map<string, ServedFheModel> {
  for (const v of variants) {
    if (!isFheVariant(v)) throw new ModelLoadError(`fhe.variants: "${v}" is not one of ${Object.keys(FHE_VARIANTS).join(', ')}`);
  }
  const ordered = [...new Set([DEFAULT_FHE_VARIANT, ...variants].filter((v) => variants.includes(v)))] as FheVariant[];
  if (ordered.length === 0) throw new ModelLoadError('fhe.variants: at least one variant is needed');
  const served = new Map<string, ServedFheModel>();
  for (const entry of entries) {
    if (entry.toLowerCase().endsWith('.csv')) {
      const table = loadSimilarityTable(entry);
      if (served.has(table.id)) throw new ModelLoadError(`fhe.models: model id "${table.id}" is listed twice`);
      served.set(table.id, table);
      continue;
    }
    const resolved = resolveModelEntry(entry);
    if ('error' in resolved) throw new ModelLoadError(`fhe.models: ${resolved.error}`);
    const { id, file } = resolved;
    if (served.has(id)) throw new ModelLoadError(`fhe.models: model id "${id}" is listed twice`);
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      throw new ModelLoadError(`fhe.models: cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let calibration;
    try {
      // Models with non-polynomial activations (e.g. digits-relu-mlp) are compiled against their stored calibration.
      calibration = readModelCalibration(resolved.calibration, bytes);
    } catch (err) {
      throw new ModelLoadError(`fhe.models: "${id}" cannot be served in FHE mode: ${(err as Error).message}`);
    }
    const compiled = new Map<FheVariant, ServedFheVariant>();
    for (const variant of ordered) {
      let plan: FhePlan;
      try {
        plan = compileOnnx(bytes, { name: id, ...FHE_VARIANTS[variant], calibration });
      } catch (err) {
        throw new ModelLoadError(`fhe.models: "${id}" cannot be served in FHE mode (${variant}): ${(err as Error).message}`);
      }
      if (!isDistinctVariant(variant, plan.spec)) continue;
      const specJson = JSON.stringify(plan.spec);
      compiled.set(variant, { modelId: id, variant, plan, specJson, specSha256: createHash('sha256').update(specJson).digest('hex'), planKey: `${id}/${variant}` });
    }
    served.set(id, {
      id,
      description: resolved.description ?? `ONNX model ${path.basename(file)}`,
      variants: compiled,
      primary: compiled.values().next().value!,
    });
  }
  return served;
}

/**
 * A similarity table (issue #13 point 4): a plain numeric CSV (optional header), one row per table row, one column
 * per dimension; its id is the file's base name and scores are raw dot products (normalise rows beforehand for
 * cosine). One compilation (table-rows), served as the default variant: the other variants have no meaning here.
 */
function loadSimilarityTable(entry: string): ServedFheModel {
  const file = path.resolve(entry);
  const id = path.basename(file).replace(/\.csv$/i, '');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ModelLoadError(`fhe.models: cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let plan: FhePlan;
  try {
    const { rows } = readNumericCsv({ source: file, text, header: 'auto' });
    const dims = rows[0]!.length;
    plan = compileSimilarityTable({ values: rows.flat(), rows: rows.length, dims }, { name: id });
  } catch (err) {
    throw new ModelLoadError(`fhe.models: similarity table "${id}" cannot be served: ${(err as Error).message}`);
  }
  const specJson = JSON.stringify(plan.spec);
  const variant: ServedFheVariant = {
    modelId: id, variant: DEFAULT_FHE_VARIANT, plan, specJson,
    specSha256: createHash('sha256').update(specJson).digest('hex'), planKey: `${id}/${DEFAULT_FHE_VARIANT}`,
  };
  return {
    id,
    description: `similarity table ${path.basename(file)}: ${plan.spec.outputSize} rows × ${plan.spec.inputSize} dims (encrypted query, scores decrypted and ranked by the client)`,
    variants: new Map([[DEFAULT_FHE_VARIANT, variant]]),
    primary: variant,
  };
}

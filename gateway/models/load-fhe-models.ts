import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { compileOnnx, type FhePlan } from '../../fhe';
import { BUNDLED_MODELS } from '../../models';

export type ServedFheModel = {
  id: string;
  description: string;
  plan: FhePlan;
  /** The spec exactly as clients receive it, and its SHA-256 (hex) which sessions are bound to. */
  specJson: string;
  specSha256: string;
};

/** A configured model that cannot be served; startup stops with this message rather than serving a subset. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError' as const;
  readonly code = 'model_load_failed' as const;
}

/**
 * Resolves each configured entry (a bundled model id, or a path to an .onnx file) and compiles it to a
 * CKKS plan. Compilation happens once, at startup, never on the request path.
 */
export function loadFheModels(entries: readonly string[]): Map<string, ServedFheModel> {
  const served = new Map<string, ServedFheModel>();
  for (const entry of entries) {
    const bundled = (BUNDLED_MODELS as Record<string, { file: string; description: string } | undefined>)[entry];
    const file = bundled ? bundled.file : path.resolve(entry);
    const id = bundled ? entry : path.basename(entry).replace(/\.onnx$/i, '');
    if (!bundled && !entry.toLowerCase().endsWith('.onnx')) {
      throw new ModelLoadError(`fhe.models: "${entry}" is neither a bundled model (${Object.keys(BUNDLED_MODELS).join(', ')}) nor an .onnx file`);
    }
    if (served.has(id)) throw new ModelLoadError(`fhe.models: model id "${id}" is listed twice`);
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      throw new ModelLoadError(`fhe.models: cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let plan: FhePlan;
    try {
      plan = compileOnnx(bytes, { name: id });
    } catch (err) {
      throw new ModelLoadError(`fhe.models: "${id}" cannot be served in FHE mode: ${(err as Error).message}`);
    }
    const specJson = JSON.stringify(plan.spec);
    served.set(id, {
      id,
      description: bundled?.description ?? `ONNX model ${path.basename(file)}`,
      plan,
      specJson,
      specSha256: createHash('sha256').update(specJson).digest('hex'),
    });
  }
  return served;
}

import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { DEFAULT_FHE_VARIANT, FHE_VARIANTS, isFheVariant } from '../../fhe';
import { BUNDLED_MODELS } from '../../models';
import type { GetFheSpecRequest, GetFheSpecResponse, GetPricingResponse, ListModelsResponse, ModelInfo } from '../../proto';
import { pricingBody, type PricingInfo } from '../payments';
import { VeilError } from '../errors';
import type { Logger } from '../logger';
import type { ServedFheModel, ServedFheVariant } from '../models/load-fhe-models';
import { handleUnary } from './handle-call';
import { DEFAULT_PRICE_TABLE } from '../../payments';

/** veil.v1.Models: discovery of FHE and TEE models and the public FHE spec of each served variant. */
export function createModelsService(models: ReadonlyMap<string, ServedFheModel>, teeModelIds: readonly string[], logger: Logger, pricing?: PricingInfo): UntypedServiceImplementation {
  const pricingJson = JSON.stringify(pricingBody(pricing ?? { enabled: false, prices: DEFAULT_PRICE_TABLE }));
  const list = (): ModelInfo[] => {
    const ids = [...new Set([...models.keys(), ...teeModelIds])];
    return ids.map((id) => {
      const fhe = models.get(id);
      const bundled = (BUNDLED_MODELS as Record<string, { description: string; input: { features: number }; output: { size: number } } | undefined>)[id];
      const spec = fhe?.primary.plan.spec;
      return {
        id,
        description: fhe?.description ?? bundled?.description ?? '',
        modes: [...(fhe ? ['fhe'] : []), ...(teeModelIds.includes(id) ? ['tee'] : [])],
        inputSize: spec?.inputSize ?? bundled?.input.features ?? 0,
        outputSize: spec?.outputSize ?? bundled?.output.size ?? 0,
        postprocess: spec?.postprocess ?? '',
        fheVariants: fhe ? [...fhe.variants.keys()] : [],
      };
    });
  };
  return {
    ListModels: handleUnary<unknown, ListModelsResponse>('ListModels', logger, async () => ({ models: list() })),
    GetFheSpec: handleUnary<GetFheSpecRequest, GetFheSpecResponse>('GetFheSpec', logger, async (request) => fheSpecOf(models, request),
      { scope: (request) => ({ mode: 'fhe', model: request.modelId }) }),
    GetPricing: handleUnary<unknown, GetPricingResponse>('GetPricing', logger, async () => ({ pricingJson })),
  };
}

/** Models.GetFheSpec (and GET /v1/fhe/models/:model/spec): the public spec of one served variant. */
export function fheSpecOf(models: ReadonlyMap<string, ServedFheModel>, request: GetFheSpecRequest): GetFheSpecResponse {
  const model = requireModel(models, request.modelId);
  const served = requireVariant(model, request.variant);
  const { spec } = served.plan;
  return {
    modelId: model.id,
    variant: served.variant,
    specJson: served.specJson,
    polyModulusDegree: spec.params.polyModulusDegree,
    coeffModulusBits: spec.params.coeffModulusBits,
    scaleBits: spec.params.scaleBits,
    batchCapacity: spec.batchCapacity,
    galoisSteps: spec.galoisSteps,
    needsRelinKeys: spec.needsRelinKeys,
    specSha256: served.specSha256,
  };
}

export function requireModel(models: ReadonlyMap<string, ServedFheModel>, modelId: string): ServedFheModel {
  if (!modelId) throw new VeilError('invalid_argument', 'model_id is required', { param: 'model_id' });
  const model = models.get(modelId);
  if (!model) {
    throw new VeilError('model_not_found', `no FHE model "${truncate(modelId)}"; served models: ${[...models.keys()].join(', ')}`, { param: 'model_id' });
  }
  return model;
}

/** The requested variant of a model (empty = the default), or a clear error listing the served ones. */
export function requireVariant(model: ServedFheModel, variant: string | undefined): ServedFheVariant {
  const name = variant || DEFAULT_FHE_VARIANT;
  const served = isFheVariant(name) ? model.variants.get(name) : undefined;
  if (!served) {
    const known = isFheVariant(name) ? '' : ` (variants are ${Object.keys(FHE_VARIANTS).join(', ')})`;
    throw new VeilError('invalid_argument', `model "${model.id}" is not served in FHE variant "${truncate(name)}"${known}; served: ${[...model.variants.keys()].join(', ')}`, { param: 'variant' });
  }
  return served;
}

/** Echoing client input is fine for ids, but bounded so a huge string cannot bloat errors or logs. */
function truncate(value: string): string {
  return value.length > 64 ? `${value.slice(0, 61)}...` : value;
}

import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { GetFheSpecRequest, GetFheSpecResponse, ListModelsResponse } from '../../proto';
import { VeilError } from '../errors';
import type { Logger } from '../logger';
import type { ServedFheModel } from '../models/load-fhe-models';
import { handleUnary } from './handle-call';

/** veil.v1.Models: discovery and the public FHE spec of each served model. */
export function createModelsService(models: ReadonlyMap<string, ServedFheModel>, logger: Logger): UntypedServiceImplementation {
  return {
    ListModels: handleUnary<unknown, ListModelsResponse>('ListModels', logger, async () => ({
      models: [...models.values()].map((m) => ({
        id: m.id,
        description: m.description,
        modes: ['fhe'],
        inputSize: m.plan.spec.inputSize,
        outputSize: m.plan.spec.outputSize,
        postprocess: m.plan.spec.postprocess,
      })),
    })),
    GetFheSpec: handleUnary<GetFheSpecRequest, GetFheSpecResponse>('GetFheSpec', logger, async (request) => {
      const model = requireModel(models, request.modelId);
      const { spec } = model.plan;
      return {
        modelId: model.id,
        specJson: model.specJson,
        polyModulusDegree: spec.params.polyModulusDegree,
        coeffModulusBits: spec.params.coeffModulusBits,
        scaleBits: spec.params.scaleBits,
        batchCapacity: spec.batchCapacity,
        galoisSteps: spec.galoisSteps,
        needsRelinKeys: spec.needsRelinKeys,
        specSha256: model.specSha256,
      };
    }),
  };
}

export function requireModel(models: ReadonlyMap<string, ServedFheModel>, modelId: string): ServedFheModel {
  if (!modelId) throw new VeilError('invalid_argument', 'model_id is required', { param: 'model_id' });
  const model = models.get(modelId);
  if (!model) {
    throw new VeilError('model_not_found', `no model "${truncate(modelId)}"; served models: ${[...models.keys()].join(', ')}`, { param: 'model_id' });
  }
  return model;
}

/** Echoing client input is fine for ids, but bounded so a huge string cannot bloat errors or logs. */
function truncate(value: string): string {
  return value.length > 64 ? `${value.slice(0, 61)}...` : value;
}

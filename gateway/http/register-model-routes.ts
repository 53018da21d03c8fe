import type { FastifyInstance } from 'fastify';
import { VeilError } from '../errors';
import type { ServedFheModel } from '../models/load-fhe-models';
import type { HttpTeeModel } from './http-tee-router';

export type RegisterModelRoutesOptions = {
  fheModels: ReadonlyMap<string, ServedFheModel>;
  /** Models healthy attested TEE nodes serve now (empty without TEE mode). */
  teeModels: () => readonly HttpTeeModel[];
  /** `created` of every model (OpenAI: unix seconds): when this gateway started serving them. */
  createdSeconds: number;
};

export type OpenAIModel = { id: string; object: 'model'; created: number; owned_by: 'veil'; modes: ('fhe' | 'tee')[]; kind: string; context_length: number };

/**
 * `GET /v1/models` in the OpenAI list shape, plus each model's Veil modes, kind (`tabular` | `chat` | `embedding`)
 * and context length (0 for tabular models); `GET /v1/models/:model` answers one, or 404 `model_not_found`.
 */
export function registerModelRoutes(app: FastifyInstance, options: RegisterModelRoutesOptions): void {
  const list = (): OpenAIModel[] => {
    const byId = new Map<string, OpenAIModel>();
    const entry = (id: string) => {
      let model = byId.get(id);
      if (!model) byId.set(id, (model = { id, object: 'model', created: options.createdSeconds, owned_by: 'veil', modes: [], kind: 'tabular', context_length: 0 }));
      return model;
    };
    for (const id of options.fheModels.keys()) entry(id).modes.push('fhe');
    for (const tee of options.teeModels()) {
      const model = entry(tee.id);
      if (!model.modes.includes('tee')) model.modes.push('tee');
      model.kind = tee.kind || model.kind;
      model.context_length = Math.max(model.context_length, tee.contextLength);
    }
    return [...byId.values()];
  };
  app.get('/v1/models', async () => ({ object: 'list', data: list() }));
  app.get('/v1/models/:model', async (request) => {
    const { model } = request.params as { model: string };
    const found = list().find((m) => m.id === model);
    if (!found) throw new VeilError('model_not_found', `no model "${model.length > 64 ? `${model.slice(0, 61)}...` : model}"`, { param: 'model' });
    return found;
  });
}

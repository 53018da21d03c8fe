import path from 'node:path';
import { BUNDLED_MODELS } from './bundled-models';
import { resolveModelEntry } from './resolve-model-entry';

test('bundled ids resolve to their committed file (and calibration); .onnx paths to their base name and the calibration beside them', () => {
  expect(resolveModelEntry('digits-mlp')).toEqual({ id: 'digits-mlp', file: BUNDLED_MODELS['digits-mlp'].file, description: BUNDLED_MODELS['digits-mlp'].description, calibration: undefined });
  expect(resolveModelEntry('digits-relu-mlp')).toMatchObject({ calibration: path.join(path.dirname(BUNDLED_MODELS['digits-relu-mlp'].file), 'digits-relu-mlp.calibration.json') });
  expect(resolveModelEntry('nets/My.ONNX')).toEqual({ id: 'My', file: path.resolve('nets/My.ONNX'), description: undefined, calibration: path.resolve('nets/My.calibration.json') });
});

test('error: anything else names the entry and the bundled ids', () => {
  expect(resolveModelEntry('resnet')).toEqual({ error: expect.stringContaining('"resnet" is neither a bundled model (breast-cancer-lr') });
});

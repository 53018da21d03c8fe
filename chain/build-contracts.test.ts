import { readFileSync } from 'node:fs';
import { buildContracts, DEV_TOKEN_ARTIFACT_PATH, PAYMENT_CHANNELS_ARTIFACT_PATH, REGISTRY_ARTIFACT_PATH } from './build-contracts';

test('every committed artifact is exactly what the pinned solc builds from the source', () => {
  const { artifacts, solcVersion } = buildContracts();
  expect(solcVersion).toMatch(/^0\.8\.37\+/);
  expect(artifacts.map((a) => a.path)).toEqual([REGISTRY_ARTIFACT_PATH, PAYMENT_CHANNELS_ARTIFACT_PATH, DEV_TOKEN_ARTIFACT_PATH]);
  // If this fails: run `node bin/run-ts.cjs chain/build-contracts.ts` and commit chain/artifacts/.
  for (const { path, content } of artifacts) expect(readFileSync(path, 'utf8')).toBe(content);
});

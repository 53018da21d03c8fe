import { readFileSync } from 'node:fs';
import { buildContracts, REGISTRY_ARTIFACT_PATH } from './build-contracts';

test('the committed artifact is exactly what the pinned solc builds from the source', () => {
  const { content, solcVersion } = buildContracts();
  expect(solcVersion).toMatch(/^0\.8\.37\+/);
  // If this fails: run `node bin/run-ts.cjs chain/build-contracts.ts` and commit chain/artifacts/.
  expect(readFileSync(REGISTRY_ARTIFACT_PATH, 'utf8')).toBe(content);
});

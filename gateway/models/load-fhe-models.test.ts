import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadFheModels, ModelLoadError } from './load-fhe-models';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-table-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
};

describe('loadFheModels: similarity tables (.csv)', () => {
  test('a numeric CSV becomes a table-rows plan named after the file, served as the default variant', () => {
    const file = write('faq-index.csv', 'a,b,c\n1,0,0\n0,1,0\n0.5,0.5,0\n');
    const served = loadFheModels([file, 'digits-mlp']).get('faq-index')!;
    expect(served.primary.variant).toBe('blocks');
    expect([...served.variants.keys()]).toEqual(['blocks']);
    const { spec } = served.primary.plan;
    expect(spec.layout.kind).toBe('table-rows');
    expect([spec.inputSize, spec.outputSize, spec.outputCiphertexts]).toEqual([3, 3, 1]);
    expect(served.description).toContain('3 rows × 3 dims');
  });

  test('a ragged table is refused at startup, naming the table and the line', () => {
    const file = write('ragged.csv', '1,0,0\n0,1\n');
    expect(() => loadFheModels([file])).toThrow(ModelLoadError);
    expect(() => loadFheModels([file])).toThrow(/similarity table "ragged" cannot be served: .*line 2/);
  });

  test('a missing file and a duplicate id are refused', () => {
    expect(() => loadFheModels([path.join(dir, 'absent.csv')])).toThrow(/cannot read .*absent\.csv.*ENOENT/);
    const file = write('twice.csv', '1,2\n');
    expect(() => loadFheModels([file, file])).toThrow('model id "twice" is listed twice');
  });
});

import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildMlpModel, randomLayer, seededRandom } from '../fhe/test-models';
import { run } from './fhe';
import { captureCli } from '../test/support/capture-cli';

const dir = mkdtempSync(path.join(tmpdir(), 'veil-fhe-cli-'));
const rand = seededRandom(5);

const capture = (args: string[]) => captureCli(run, args);

describe('veil fhe check', () => {
  const lr = path.join(dir, 'lr.onnx');
  writeFileSync(lr, buildMlpModel([randomLayer(rand, 1, 30, 0.5)], { final: 'Sigmoid' }));

  test('--json: compiles, runs encrypted inference and compares with onnxruntime', async () => {
    const { code, out } = await capture(['check', lr, '--samples', '70', '--json', '--repeat', '2']);
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r).toMatchObject({ compiled: true, depth: 1, polyModulusDegree: 4096, rotations: 5, minRotations: 5, batchCapacity: 64, samples: 70, top1Agreement: 1 });
    expect(r.maxAbsError).toBeLessThan(1e-3);
    expect(r.keyBytes).toBeGreaterThan(0);
    expect(r.p50Ms).toBeGreaterThan(0);
  });

  test('text output and CSV input (optional header)', async () => {
    const mlp = path.join(dir, 'mlp.onnx');
    writeFileSync(mlp, buildMlpModel([randomLayer(rand, 8, 6, 0.5), randomLayer(rand, 3, 8, 0.5)], { activation: 'square', final: 'Softmax' }));
    const csv = path.join(dir, 'in.csv');
    writeFileSync(csv, `a,b,c,d,e,f\r\n${Array.from({ length: 5 }, () => Array.from({ length: 6 }, () => rand().toFixed(3)).join(',')).join('\r\n')}\r\n`);
    const { code, out } = await capture(['check', mlp, '--input', csv, '--repeat', '1']);
    expect(code).toBe(0);
    expect(out).toMatch(/parameters {2}CKKS N=8192, coeff modulus \[49, 39, 39, 39, 52\]/);
    expect(out).toMatch(/depth 3, rotations \d+ \(minimum for the layout \d+\)/);
    expect(out).toMatch(/5 CSV rows: max \|encrypted − plaintext\| .*top-1 agreement 100\.0%/);
  });

  test('error: a model that cannot compile exits 1 and names node, op and reason', async () => {
    const relu = path.join(dir, 'relu.onnx');
    writeFileSync(relu, buildMlpModel([randomLayer(rand, 4, 4), randomLayer(rand, 2, 4)], { activation: 'relu' }));
    const text = await capture(['check', relu]);
    expect(text.code).toBe(1);
    expect(text.err).toMatch(/node "act0" \(Relu\): is not a polynomial; it needs a calibrated approximation: .*--calibrate/);
    const json = await capture(['check', relu, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ compiled: false, error: expect.stringMatching(/Relu/) });
  });

  describe('--calibrate', () => {
    const relu = path.join(dir, 'relu-cal.onnx');
    writeFileSync(relu, buildMlpModel([randomLayer(rand, 6, 4), randomLayer(rand, 3, 6)], { activation: 'relu' }));
    const rows = (n: number) => Array.from({ length: n }, () => Array.from({ length: 4 }, () => rand().toFixed(4)).join(',')).join('\n') + '\n';
    const cal = path.join(dir, 'cal.csv');
    writeFileSync(cal, rows(300));

    test('reports per activation ranges, degree, depth, errors and out-of-range inputs; the encrypted check uses the plan simulation', async () => {
      const labels = path.join(dir, 'labels.csv');
      writeFileSync(labels, Array.from({ length: 300 }, (_, i) => i % 3).join('\n') + '\n');
      const { code, out } = await capture(['check', relu, '--calibrate', cal, '--labels', labels, '--samples', '8', '--repeat', '1', '--json']);
      expect(code).toBe(0);
      const r = JSON.parse(out);
      expect(r).toMatchObject({ compiled: true, samples: 8, plaintextRows: 300, calibrationRows: 300 });
      expect(r.activations).toEqual([expect.objectContaining({ name: 'act0', op: 'Relu', values: 300 * 6, outsideFitted: 0, outsideObserved: 0 })]);
      const [a] = r.activations;
      expect(a.fitted[0]).toBeLessThan(a.observed[0]);
      expect(a.levels).toBeGreaterThanOrEqual(2);
      expect(a.maxError).toBeGreaterThan(0);
      expect(r.maxAbsError).toBeLessThan(1e-3);
      expect(r.planTop1Agreement).toBeGreaterThan(0.9);
      for (const k of ['plaintextAccuracy', 'planAccuracy', 'encryptedAccuracy']) expect(r[k]).toBeGreaterThanOrEqual(0);
    });

    test('text report; held-out rows outside the calibrated range are counted as a risk; --write-calibration stores it beside the model', async () => {
      const wide = path.join(dir, 'wide.csv');
      writeFileSync(wide, rows(20).split('\n').map((l) => l && l.split(',').map((v) => (Number(v) * 5).toFixed(4)).join(',')).join('\n'));
      const written = await capture(['check', relu, '--calibrate', cal, '--write-calibration', '--samples', '4', '--repeat', '1']);
      expect(written.code).toBe(0);
      expect(written.out).toMatch(/act0 +Relu +\[-?\d+\.\d+, -?\d+\.\d+\] +\[/);
      expect(written.out).toMatch(/0 of 1800 outside the fitted range/);
      expect(existsSync(path.join(dir, 'relu-cal.calibration.json'))).toBe(true);
      // The stored calibration is picked up beside the model; the wide rows fall outside it.
      // Far outside the fitted range T_d(t) explodes, so even the encrypted result leaves the plan's: exit 3.
      const held = await capture(['check', relu, '--input', wide, '--repeat', '1', '--json']);
      expect(JSON.parse(held.out).activations[0].outsideFitted).toBeGreaterThan(0);
      expect(held.code).toBe(3);
    });

    test('error: a malformed or stale calibration exits 1 naming it', async () => {
      const bad = path.join(dir, 'bad.calibration.json');
      writeFileSync(bad, '{"version": 2}');
      const r = await capture(['check', relu, '--calibration', bad]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/bad\.calibration\.json: version must be 1/);
      expect((await capture(['check', relu, '--calibrate', cal, '--calibration', bad])).code).toBe(2);
    });
  });

  test('error: usage problems exit 2', async () => {
    expect((await capture([])).code).toBe(2);
    expect((await capture(['check'])).code).toBe(2);
    expect((await capture(['check', path.join(dir, 'missing.onnx')])).code).toBe(2);
    const bad = path.join(dir, 'bad.csv');
    writeFileSync(bad, '1,2,3\n');
    expect((await capture(['check', lr, '--input', bad])).err).toMatch(/bad.csv line 1: 3 columns, expected 30/);
    expect((await capture(['check', lr, '--samples', '0'])).code).toBe(2);
  });

  // One CSV rule (models/read-numeric-csv.ts). Feature rows are user data: messages name line and column, never a value.
  const row = (j0 = 0) => Array.from({ length: 30 }, (_, j) => ((j + j0) / 100).toFixed(2));
  const withCell = (column: number, cell: string) => row().map((c, j) => (j === column - 1 ? cell : c)).join(',');
  test.each([
    ['an empty cell in the first row (not a header)', `${withCell(5, '')}\n${row(1).join(',')}\n`, /in\.csv line 1, column 5: empty cell/],
    ['a word in a data row', `${row().join(',')}\n${withCell(7, 'patient-4711')}\n`, /in\.csv line 2, column 7: not a finite number/],
    ['a quoted cell', `${withCell(2, '"4711"')}\n`, /in\.csv line 1, column 2: quoted field/],
    ['a blank line inside the table', `${row().join(',')}\n\n${row(4711).join(',')}\n`, /in\.csv line 2: blank line inside the table/],
    ['a header of the wrong width', `a,b\n${row(4711).join(',')}\n`, /in\.csv line 1: header has 2 columns, expected 30/],
    ['a ragged row', `${row().join(',')}\n${row(4711).slice(0, 29).join(',')}\n`, /in\.csv line 2: 29 columns, expected 30/],
  ])('error: --input with %s exits 2 naming the position', async (_, text, message) => {
    const file = path.join(dir, 'in.csv');
    writeFileSync(file, text);
    const r = await capture(['check', lr, '--input', file, '--repeat', '1']);
    expect(r.err).toMatch(message);
    expect(r.err).not.toContain('4711');
    expect(r.code).toBe(2);
  });
});

test('--variant selects a gateway variant; conflicting or unknown values are usage errors', async () => {
  const lr = require.resolve('../models/breast-cancer-lr.onnx');
  const ok = await captureCli(run, ['check', lr, '--variant', 'feature-major', '--samples', '4', '--json']);
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.out)).toMatchObject({ compiled: true, rotations: 0 });
  expect((await captureCli(run, ['check', lr, '--variant', 'turbo'])).code).toBe(2);
  expect((await captureCli(run, ['check', lr, '--variant', 'blocks', '--layout', 'feature-major'])).code).toBe(2);
});

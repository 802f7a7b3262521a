/** Flat weight files (lib/model/weights-io.ts): round trip, manifest kept, and each mismatch a DataError naming its file. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadWeights, readWeightsManifest, saveWeights, WeightsManifest } from '../../lib/model/weights-io';
import { DataError } from '../../lib/util/errors';

interface TestManifest extends WeightsManifest {
  note: string;
}

const FORMAT = 'bst-lab/weights-test@1';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function makeVars(seed: number): tf.Variable[] {
  return [
    tf.variable(tf.randomNormal([3, 4], 0, 1, 'float32', seed)), // [3, 4]
    tf.variable(tf.randomNormal([5], 0, 1, 'float32', seed + 1)), // [5]
  ];
}

test('saveWeights -> loadWeights restores every value; the .bin holds exactly the float32 values, the .json the manifest', () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bst-weights-io-')), 'sub'); // created on save
  const vars = makeVars(1);
  const manifest: TestManifest = { format: FORMAT, shapes: vars.map((v) => v.shape), note: 'kept' };
  saveWeights({ dir, name: 'm', vars, manifest });
  expect(fs.readdirSync(dir).sort()).toEqual(['m.bin', 'm.json']); // no temporary files left behind
  expect(fs.statSync(path.join(dir, 'm.bin')).size).toBe((12 + 5) * 4);

  const m = readWeightsManifest<TestManifest>({ dir, name: 'm' }, FORMAT);
  expect(m).toEqual({ format: FORMAT, shapes: [[3, 4], [5]], note: 'kept' });
  const fresh = makeVars(7);
  expect(Array.from(fresh[0].dataSync())).not.toEqual(Array.from(vars[0].dataSync()));
  loadWeights({ dir, name: 'm', vars: fresh, shapes: m.shapes });
  fresh.forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(Array.from(vars[i].dataSync())));
  tf.dispose([...vars, ...fresh]);
});

test('a wrong format, a wrong value count and a wrong shape are DataErrors naming the file and the values', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-weights-io-'));
  const vars = makeVars(2);
  saveWeights({ dir, name: 'm', vars, manifest: { format: FORMAT, shapes: vars.map((v) => v.shape) } });

  expect(() => readWeightsManifest({ dir, name: 'm' }, 'other@1')).toThrow(DataError);
  expect(() => readWeightsManifest({ dir, name: 'm' }, 'other@1')).toThrow(
    /m\.json: format is "bst-lab\/weights-test@1", expected other@1/,
  );

  // the recorded shapes disagree with the model's variables: the .json is named, with both shapes
  const swapped = [tf.variable(tf.zeros([4, 3])), tf.variable(tf.zeros([5]))];
  expect(() => loadWeights({ dir, name: 'm', vars: swapped, shapes: [[3, 4], [5]] })).toThrow(
    /m\.json: variable 0 has shape \[3,4\], the model needs \[4,3\]/,
  );
  expect(() => loadWeights({ dir, name: 'm', vars: vars, shapes: [[3, 4]] })).toThrow(
    /m\.json: variable 1 has shape undefined, the model needs \[5\]/,
  );

  // a model with more values than the file holds: the .bin is named, with both counts
  const bigger = [tf.variable(tf.zeros([3, 4])), tf.variable(tf.zeros([6]))];
  expect(() => loadWeights({ dir, name: 'm', vars: bigger, shapes: [[3, 4], [6]] })).toThrow(DataError);
  expect(() => loadWeights({ dir, name: 'm', vars: bigger, shapes: [[3, 4], [6]] })).toThrow(
    /m\.bin: holds 17 float32 values, the model described by m\.json needs 18/,
  );
  tf.dispose([...vars, ...swapped, ...bigger]);
});

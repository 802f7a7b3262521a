/** Saving and loading a SeqRec model (lib/seqrec/io.ts): identical scores after a round trip; corrupt files are named. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { createSeqRec, disposeSeqRec, loadSeqRec, saveSeqRec, seqRecConfig, seqRecScores } from '../../lib/seqrec';
import { DataError } from '../../lib/util/errors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

test('save -> load gives the same scores; a truncated weights file is a DataError naming it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-seqrec-io-'));
  const model = createSeqRec(seqRecConfig({ maxLen: 6, dim: 8, heads: 2, blocks: 1, seed: 3 }), 12);
  const inputs = [Int32Array.from([1, 2, 3]), Int32Array.from([5, 11, 4, 4, 2, 9, 7])];
  const before = seqRecScores(model, inputs);
  saveSeqRec(model, dir, { note: 'test' });
  const fresh = createSeqRec(seqRecConfig({ maxLen: 6, dim: 8, heads: 2, blocks: 1, seed: 4 }), 12);
  expect(Array.from(seqRecScores(fresh, inputs))).not.toEqual(Array.from(before)); // another seed scores differently
  const { model: loaded, meta } = loadSeqRec(dir);
  expect(meta).toEqual({ note: 'test' });
  expect(loaded.numItems).toBe(12);
  expect(Array.from(seqRecScores(loaded, inputs))).toEqual(Array.from(before));
  const bin = path.join(dir, 'seqrec.bin');
  fs.writeFileSync(bin, fs.readFileSync(bin).subarray(0, 100));
  expect(() => loadSeqRec(dir)).toThrow(DataError);
  expect(() => loadSeqRec(dir)).toThrow(/seqrec\.bin: holds 25 float32 values/);
  [model, fresh, loaded].forEach(disposeSeqRec);
});

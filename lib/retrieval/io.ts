/**
 * Saving and loading a two-tower model: `<dir>/twotower.json` (format, config, the variables' shapes in
 * model.vars order, optional caller metadata) and `<dir>/twotower.bin` (every variable's float32 values,
 * little-endian, concatenated in that order). The features (vocabularies, genres, years, user tables) are not
 * stored: the loader rebuilds the model from the same RetrievalFeatures, and the shapes check that they match.
 * Both files written atomically, the weights first, so a readable twotower.json always describes a complete bin.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../util/errors';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/files';
import { TwoTowerConfig, twoTowerConfig } from './config';
import { RetrievalFeatures } from './features';
import { TwoTowerModel, createTwoTower, disposeTwoTower } from './model';

/** The format tag of twotower.json. */
export const TWO_TOWER_FORMAT = 'bst-lab/twotower@1';

/** Contents of twotower.json. */
export interface TwoTowerManifest {
  format: string;
  config: TwoTowerConfig;
  numItems: number;
  shapes: number[][];
  /** anything the caller stores alongside (e.g. the training result) */
  meta?: Record<string, unknown>;
}

/** Write `model`'s config and weights into `dir` (created when missing). */
export function saveTwoTower(model: TwoTowerModel, dir: string, meta?: Record<string, unknown>): void {
  const total = model.vars.reduce((a, v) => a + v.size, 0);
  const all = new Float32Array(total);
  let o = 0;
  for (const v of model.vars) {
    all.set(v.dataSync() as Float32Array, o);
    o += v.size;
  }
  writeFileAtomic(path.join(dir, 'twotower.bin'), new Uint8Array(all.buffer));
  const manifest: TwoTowerManifest = { format: TWO_TOWER_FORMAT, config: model.config, numItems: model.numItems, shapes: model.vars.map((v) => v.shape), meta };
  writeJsonAtomic(path.join(dir, 'twotower.json'), manifest);
}

/** Whether `dir` holds a saved two-tower model. */
export function hasTwoTower(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'twotower.json'));
}

/**
 * Load a model written by saveTwoTower over `features` (the same catalogue and side tables it was trained on);
 * throws a DataError naming the file on a format, catalogue, shape or size mismatch.
 */
export function loadTwoTower(dir: string, features: RetrievalFeatures): { model: TwoTowerModel; meta?: Record<string, unknown> } {
  const jsonFile = path.join(dir, 'twotower.json');
  const binFile = path.join(dir, 'twotower.bin');
  const m = readJson<TwoTowerManifest>(jsonFile);
  if (m.format !== TWO_TOWER_FORMAT) throw new DataError(`format is ${JSON.stringify(m.format)}, expected ${TWO_TOWER_FORMAT}`, jsonFile);
  if (m.numItems !== features.numItems) throw new DataError(`numItems is ${m.numItems}, the features' catalogue has ${features.numItems}`, jsonFile);
  const model = createTwoTower(twoTowerConfig(m.config), features);
  try {
    const buf = fs.readFileSync(binFile);
    const values = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const want = model.vars.reduce((a, v) => a + v.size, 0);
    if (values.length !== want) throw new DataError(`holds ${values.length} float32 values, the model described by twotower.json needs ${want}`, binFile);
    let o = 0;
    model.vars.forEach((v, i) => {
      const s = m.shapes[i];
      if (!s || s.join('x') !== v.shape.join('x')) throw new DataError(`variable ${i} has shape ${JSON.stringify(s)}, the model needs ${JSON.stringify(v.shape)}`, jsonFile);
      const t = tf.tensor(values.slice(o, o + v.size), v.shape, 'float32');
      v.assign(t);
      t.dispose();
      o += v.size;
    });
  } catch (e) {
    disposeTwoTower(model);
    throw e;
  }
  return { model, meta: m.meta };
}

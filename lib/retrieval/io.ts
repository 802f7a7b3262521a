/**
 * Saving and loading a two-tower model (lib/retrieval/model.ts): `<dir>/twotower.json` (format, config, the
 * side features the towers read -- catalogue movie ids, genre multi-hot, year indices, user feature indices --
 * and the variables' shapes in model.vars order) and `<dir>/twotower.bin` (every variable's float32 values,
 * little-endian, concatenated in that order). Both written atomically, the weights first, so a readable
 * twotower.json always describes a complete twotower.bin. The same layout as lib/seqrec/io.ts (lib/model/weights-io.ts).
 */
import * as fs from 'fs';
import { loadWeights, readWeightsManifest, saveWeights, weightsFiles } from '../model/weights-io';
import { twoTowerConfig, TwoTowerConfig } from './config';
import { RetrievalFeatures } from './features';
import { createTwoTower, TwoTowerModel } from './model';

/** The base name of the files (twotower.json, twotower.bin). */
const NAME = 'twotower';

/** The format tag of twotower.json. */
export const TWO_TOWER_FORMAT = 'bst-lab/two-tower@1';

/** RetrievalFeatures as JSON (typed arrays as plain arrays, the user map as [userId, gender, age, occupation] rows). */
interface FeaturesJson {
  numItems: number;
  itemIds: number[];
  genres: string[];
  itemGenres: number[];
  numYears: number;
  itemYear: number[];
  users?: { numGenders: number; numAges: number; numOccupations: number; rows: [number, number, number, number][] };
}

/** Contents of twotower.json. */
export interface TwoTowerManifest {
  format: string;
  config: TwoTowerConfig;
  features: FeaturesJson;
  shapes: number[][];
  /** anything the caller stores alongside */
  meta?: Record<string, unknown>;
}

function featuresToJson(f: RetrievalFeatures): FeaturesJson {
  const out: FeaturesJson = {
    numItems: f.numItems,
    itemIds: Array.from(f.itemIds),
    genres: f.genres,
    itemGenres: Array.from(f.itemGenres),
    numYears: f.numYears,
    itemYear: Array.from(f.itemYear),
  };
  if (f.users) {
    const rows = Array.from(f.users.byUserId, ([u, x]) => [u, ...x] as [number, number, number, number]);
    out.users = {
      numGenders: f.users.numGenders,
      numAges: f.users.numAges,
      numOccupations: f.users.numOccupations,
      rows,
    };
  }
  return out;
}

function featuresFromJson(j: FeaturesJson): RetrievalFeatures {
  const out: RetrievalFeatures = {
    numItems: j.numItems,
    itemIds: Int32Array.from(j.itemIds),
    genres: j.genres,
    itemGenres: Float32Array.from(j.itemGenres),
    numYears: j.numYears,
    itemYear: Int32Array.from(j.itemYear),
  };
  if (j.users) {
    out.users = {
      numGenders: j.users.numGenders,
      numAges: j.users.numAges,
      numOccupations: j.users.numOccupations,
      byUserId: new Map(j.users.rows.map(([u, g, a, o]) => [u, [g, a, o] as [number, number, number]])),
    };
  }
  return out;
}

/** Write `model` into `dir` (created when missing). */
export function saveTwoTower(model: TwoTowerModel, dir: string, meta?: Record<string, unknown>): void {
  const manifest: TwoTowerManifest = {
    format: TWO_TOWER_FORMAT,
    config: model.config,
    features: featuresToJson(model.features),
    shapes: model.vars.map((v) => v.shape),
    meta,
  };
  saveWeights({ dir, name: NAME, vars: model.vars, manifest });
}

/** Whether `dir` holds a saved two-tower model. */
export function hasTwoTower(dir: string): boolean {
  return fs.existsSync(weightsFiles({ dir, name: NAME }).jsonFile);
}

/** Load a model written by saveTwoTower; throws a DataError naming the file on a format, shape or size mismatch. */
export function loadTwoTower(dir: string): { model: TwoTowerModel; meta?: Record<string, unknown> } {
  const m = readWeightsManifest<TwoTowerManifest>({ dir, name: NAME }, TWO_TOWER_FORMAT);
  const model = createTwoTower(twoTowerConfig(m.config), featuresFromJson(m.features));
  loadWeights({ dir, name: NAME, vars: model.vars, shapes: m.shapes });
  return { model, meta: m.meta };
}

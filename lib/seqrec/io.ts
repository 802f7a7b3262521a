/**
 * Saving and loading a SeqRec model: `<dir>/seqrec.json` (format, config, numItems, the variables' shapes in
 * model.vars order, optional caller metadata such as the catalogue's movie ids) and `<dir>/seqrec.bin` (every
 * variable's float32 values, little-endian, concatenated in that order). Both written atomically, the weights
 * first, so a readable seqrec.json always describes a complete seqrec.bin (lib/model/weights-io.ts).
 */
import * as fs from 'fs';
import { loadWeights, readWeightsManifest, saveWeights, weightsFiles } from '../model/weights-io';
import { seqRecConfig, SeqRecConfig } from './config';
import { createSeqRec, SeqRecModel } from './model';

/** The base name of the files (seqrec.json, seqrec.bin). */
const NAME = 'seqrec';

/** The format tag of seqrec.json. */
export const SEQREC_FORMAT = 'bst-lab/seqrec@1';

/** Contents of seqrec.json. */
export interface SeqRecManifest {
  format: string;
  config: SeqRecConfig;
  numItems: number;
  shapes: number[][];
  /** anything the caller stores alongside (e.g. movie id per item index) */
  meta?: Record<string, unknown>;
}

/** Write `model` into `dir` (created when missing). */
export function saveSeqRec(model: SeqRecModel, dir: string, meta?: Record<string, unknown>): void {
  const manifest: SeqRecManifest = {
    format: SEQREC_FORMAT,
    config: model.config,
    numItems: model.numItems,
    shapes: model.vars.map((v) => v.shape),
    meta,
  };
  saveWeights({ dir, name: NAME, vars: model.vars, manifest });
}

/** Whether `dir` holds a saved SeqRec model. */
export function hasSeqRec(dir: string): boolean {
  return fs.existsSync(weightsFiles({ dir, name: NAME }).jsonFile);
}

/** Load a model written by saveSeqRec; throws a DataError naming the file on a format, shape or size mismatch. */
export function loadSeqRec(dir: string): { model: SeqRecModel; meta?: Record<string, unknown> } {
  const m = readWeightsManifest<SeqRecManifest>({ dir, name: NAME }, SEQREC_FORMAT);
  const model = createSeqRec(seqRecConfig(m.config), m.numItems);
  loadWeights({ dir, name: NAME, vars: model.vars, shapes: m.shapes });
  return { model, meta: m.meta };
}

/**
 * Saving and loading a SeqRec model: `<dir>/seqrec.json` (format, config, numItems, the variables' shapes in
 * model.vars order, optional caller metadata such as the catalogue's movie ids) and `<dir>/seqrec.bin` (every
 * variable's float32 values, little-endian, concatenated in that order). Both written atomically, the weights
 * first, so a readable seqrec.json always describes a complete seqrec.bin.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../util/errors';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/files';
import { seqRecConfig, SeqRecConfig } from './config';
import { createSeqRec, SeqRecModel } from './model';

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
  const parts = model.vars.map((v) => v.dataSync() as Float32Array);
  const total = parts.reduce((a, p) => a + p.length, 0);
  const all = new Float32Array(total);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  writeFileAtomic(path.join(dir, 'seqrec.bin'), new Uint8Array(all.buffer));
  const manifest: SeqRecManifest = {
    format: SEQREC_FORMAT,
    config: model.config,
    numItems: model.numItems,
    shapes: model.vars.map((v) => v.shape),
    meta,
  };
  writeJsonAtomic(path.join(dir, 'seqrec.json'), manifest);
}

/** Whether `dir` holds a saved SeqRec model. */
export function hasSeqRec(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'seqrec.json'));
}

/** Load a model written by saveSeqRec; throws a DataError naming the file on a format, shape or size mismatch. */
export function loadSeqRec(dir: string): { model: SeqRecModel; meta?: Record<string, unknown> } {
  const jsonFile = path.join(dir, 'seqrec.json');
  const binFile = path.join(dir, 'seqrec.bin');
  const m = readJson<SeqRecManifest>(jsonFile);
  if (m.format !== SEQREC_FORMAT)
    throw new DataError(`format is ${JSON.stringify(m.format)}, expected ${SEQREC_FORMAT}`, jsonFile);
  const model = createSeqRec(seqRecConfig(m.config), m.numItems);
  const buf = fs.readFileSync(binFile);
  const values = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const want = model.vars.reduce((a, v) => a + v.size, 0);
  if (values.length !== want)
    throw new DataError(
      `holds ${values.length} float32 values, the model described by seqrec.json needs ${want}`,
      binFile,
    );
  let o = 0;
  model.vars.forEach((v, i) => {
    const s = m.shapes[i];
    if (!s || s.join('x') !== v.shape.join('x'))
      throw new DataError(
        `variable ${i} has shape ${JSON.stringify(s)}, the model needs ${JSON.stringify(v.shape)}`,
        jsonFile,
      );
    const t = tf.tensor(values.slice(o, o + v.size), v.shape, 'float32');
    v.assign(t);
    t.dispose();
    o += v.size;
  });
  return { model, meta: m.meta };
}

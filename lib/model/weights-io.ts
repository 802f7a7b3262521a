/**
 * Flat weight files shared by the hand-built models (lib/seqrec/io.ts, lib/retrieval/io.ts): `<dir>/<name>.bin`
 * holds every variable's float32 values, little-endian, concatenated in the model's variable order, and
 * `<dir>/<name>.json` describes them (a format tag, the variables' shapes in that order, and whatever else the
 * caller needs to rebuild the model). Both are written atomically, the weights first, so a readable
 * `<name>.json` always describes a complete `<name>.bin`.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../util/errors';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/files';

/** The fields of `<name>.json` the weight helpers read: the format tag and the variables' shapes. */
export interface WeightsManifest {
  format: string;
  shapes: number[][];
}

/** Where saveWeights writes: a folder and the files' base name (`seqrec` gives seqrec.bin and seqrec.json). */
export interface WeightsLocation {
  dir: string;
  name: string;
}

/** What saveWeights writes. */
export interface SaveWeightsOptions<M extends WeightsManifest> extends WeightsLocation {
  /** the model's variables, in the order their values are concatenated */
  vars: tf.Variable[];
  /** the description written as `<name>.json` (its shapes should be vars' shapes) */
  manifest: M;
}

/** What loadWeights reads into. */
export interface LoadWeightsOptions extends WeightsLocation {
  /** the freshly built model's variables, assigned in order */
  vars: tf.Variable[];
  /** the shapes `<name>.json` recorded, checked against vars' shapes */
  shapes: number[][];
}

/** The two files of a location: `<dir>/<name>.bin` and `<dir>/<name>.json`. */
export function weightsFiles(loc: WeightsLocation): { binFile: string; jsonFile: string } {
  return { binFile: path.join(loc.dir, `${loc.name}.bin`), jsonFile: path.join(loc.dir, `${loc.name}.json`) };
}

/** Write the variables' values to `<name>.bin`, then `manifest` to `<name>.json`, both atomically (dir created when missing). */
export function saveWeights<M extends WeightsManifest>(o: SaveWeightsOptions<M>): void {
  const { binFile, jsonFile } = weightsFiles(o);
  const parts = o.vars.map((v) => v.dataSync() as Float32Array);
  const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  writeFileAtomic(binFile, new Uint8Array(all.buffer));
  writeJsonAtomic(jsonFile, o.manifest);
}

/** Read `<name>.json` and check its format tag; a different tag is a DataError naming the file. */
export function readWeightsManifest<M extends WeightsManifest>(loc: WeightsLocation, format: string): M {
  const { jsonFile } = weightsFiles(loc);
  const m = readJson<M>(jsonFile);
  if (m.format !== format) throw new DataError(`format is ${JSON.stringify(m.format)}, expected ${format}`, jsonFile);
  return m;
}

/**
 * Assign `<name>.bin`'s values to `vars` in order. A value count other than the variables' total is a DataError
 * naming the .bin file; a recorded shape other than a variable's is a DataError naming the .json file.
 */
export function loadWeights(o: LoadWeightsOptions): void {
  const { binFile, jsonFile } = weightsFiles(o);
  const buf = fs.readFileSync(binFile);
  const values = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const want = o.vars.reduce((a, v) => a + v.size, 0);
  if (values.length !== want)
    throw new DataError(
      `holds ${values.length} float32 values, the model described by ${o.name}.json needs ${want}`,
      binFile,
    );
  let off = 0;
  o.vars.forEach((v, i) => {
    const s = o.shapes[i];
    if (!s || s.join('x') !== v.shape.join('x'))
      throw new DataError(
        `variable ${i} has shape ${JSON.stringify(s)}, the model needs ${JSON.stringify(v.shape)}`,
        jsonFile,
      );
    const t = tf.tensor(values.slice(off, off + v.size), v.shape, 'float32');
    v.assign(t);
    t.dispose();
    off += v.size;
  });
}

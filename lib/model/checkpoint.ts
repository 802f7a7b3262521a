/**
 * Checkpoints: model weights + topology, BST config, vocabularies (caller's JSON), history, training state
 * and optimizer slots, written atomically (into a temporary folder, then renamed into place).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { FeatureSizes } from '../data/types';
import { TrainingError } from '../util/errors';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/files';
import { BstConfig, resolveConfig } from './config';
import { BstModel } from './build';
import './layers/index'; // registers the custom layers before any model is deserialised

/** Format tag of checkpoint folders. */
export const CHECKPOINT_FORMAT = 'bst-checkpoint-1';

/** Progress of a training run, stored with each checkpoint. */
export interface TrainState {
  /** epochs completed */
  epoch: number;
  /** optimizer steps taken */
  step: number;
  /** best validation value so far (monitor, lower is better) and its epoch (-1: none yet) */
  bestValue: number;
  bestEpoch: number;
  /** epochs since the last improvement */
  badEpochs: number;
}

/** meta.json of a checkpoint. */
export interface CheckpointMeta {
  format: string;
  savedAt: string;
  config: BstConfig;
  sizes: FeatureSizes;
  vocabularies?: unknown;
  history: unknown[];
  state?: TrainState;
  hasOptimizer: boolean;
}

/** What saveCheckpoint writes. */
export interface SaveCheckpointOptions {
  model: BstModel;
  vocabularies?: unknown;
  history?: unknown[];
  state?: TrainState;
  optimizer?: tf.Optimizer;
}

/** Adam's running products beta1^t and beta2^t, as the optimizer holds them (float32 values). */
export interface AdamPowers {
  accBeta1: number;
  accBeta2: number;
}

interface AdamLike {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

/**
 * An Adam optimizer's accumulated beta powers, read exactly (undefined for optimizers without them). They are
 * products accumulated step by step; tfjs's setWeights recomputes them as pow(beta, t + 1), which differs in the
 * last bits, so checkpoints and data-parallel workers copy them.
 */
export function adamPowers(optimizer: tf.Optimizer): AdamPowers | undefined {
  const adam = optimizer as unknown as AdamLike;
  if (!adam.accBeta1 || !adam.accBeta2) return undefined;
  return { accBeta1: adam.accBeta1.dataSync()[0], accBeta2: adam.accBeta2.dataSync()[0] };
}

/** Set an Adam optimizer's accumulated beta powers (after setWeights, which recomputes them); no-op for others. */
export function setAdamPowers(optimizer: tf.Optimizer, p: Partial<AdamPowers>): void {
  const adam = optimizer as unknown as AdamLike;
  tf.tidy(() => {
    if (adam.accBeta1 && p.accBeta1 !== undefined) adam.accBeta1.assign(tf.scalar(p.accBeta1, 'float32'));
    if (adam.accBeta2 && p.accBeta2 !== undefined) adam.accBeta2.assign(tf.scalar(p.accBeta2, 'float32'));
  });
}

function joinWeightData(w: tf.io.WeightData | undefined): ArrayBuffer {
  if (!w) return new ArrayBuffer(0);
  return Array.isArray(w) ? tf.io.CompositeArrayBuffer.join(w) : w;
}

/** Serialise a model's topology and weights (tfjs layers format) without touching the file system. */
export async function modelArtifacts(
  net: tf.LayersModel,
): Promise<{ topology: unknown; specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer }> {
  let out: { topology: unknown; specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } | undefined;
  await net.save(
    tf.io.withSaveHandler(async (a) => {
      out = { topology: a.modelTopology, specs: a.weightSpecs ?? [], data: joinWeightData(a.weightData) };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return out!;
}

/**
 * Write a checkpoint folder atomically: everything goes into `<dir>.tmp-<pid>-<time>`, then the folder is
 * renamed to `dir` (an existing `dir` is moved aside first and removed after). A crash leaves the old or the
 * new checkpoint (loadCheckpoint also finds a checkpoint moved aside).
 */
export async function saveCheckpoint(dir: string, o: SaveCheckpointOptions): Promise<void> {
  const art = await modelArtifacts(o.model.net);
  let opt: { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer; powers?: AdamPowers } | undefined;
  if (o.optimizer) {
    const named = await o.optimizer.getWeights();
    const enc = await tf.io.encodeWeights(named);
    opt = { specs: enc.specs, data: joinWeightData(enc.data), powers: adamPowers(o.optimizer) };
  }
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp, { recursive: true });
  writeJsonAtomic(path.join(tmp, 'model.json'), {
    modelTopology: art.topology,
    weightsManifest: [{ paths: ['weights.bin'], weights: art.specs }],
  });
  writeFileAtomic(path.join(tmp, 'weights.bin'), new Uint8Array(art.data));
  if (opt) {
    writeJsonAtomic(path.join(tmp, 'optimizer.json'), { weights: opt.specs, ...opt.powers }); // float32 powers: exact in JSON
    writeFileAtomic(path.join(tmp, 'optimizer.bin'), new Uint8Array(opt.data));
  }
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    savedAt: new Date().toISOString(),
    config: o.model.config,
    sizes: o.model.sizes,
    vocabularies: o.vocabularies,
    history: o.history ?? [],
    state: o.state,
    hasOptimizer: !!opt,
  };
  writeJsonAtomic(path.join(tmp, 'meta.json'), meta);
  let aside: string | undefined;
  if (fs.existsSync(dir)) {
    aside = `${dir}.old-${process.pid}-${Date.now()}`;
    fs.renameSync(dir, aside);
  }
  fs.renameSync(tmp, dir);
  if (aside) fs.rmSync(aside, { recursive: true, force: true });
}

/** The folder holding the checkpoint `dir`: dir itself, or a copy moved aside by an interrupted save. */
export function findCheckpoint(dir: string): string | undefined {
  if (fs.existsSync(path.join(dir, 'meta.json'))) return dir;
  const parent = path.dirname(dir),
    base = path.basename(dir) + '.old-';
  if (!fs.existsSync(parent)) return undefined;
  const aside = fs
    .readdirSync(parent)
    .filter((f) => f.startsWith(base) && fs.existsSync(path.join(parent, f, 'meta.json')))
    .sort();
  return aside.length ? path.join(parent, aside[aside.length - 1]) : undefined;
}

function readWeights(
  dir: string,
  manifestFile: string,
  binFile: string,
  key: 'weightsManifest' | 'weights',
): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const json = readJson<any>(path.join(dir, manifestFile));
  const specs: tf.io.WeightsManifestEntry[] =
    key === 'weightsManifest' ? json.weightsManifest.flatMap((g: any) => g.weights) : json.weights;
  const buf = fs.readFileSync(path.join(dir, binFile));
  return { specs, data: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer };
}

/** A loaded checkpoint. */
export interface LoadedCheckpoint {
  model: BstModel;
  meta: CheckpointMeta;
  dir: string;
}

/** Load a checkpoint folder: rebuilds the network from its saved topology and weights. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const found = findCheckpoint(dir);
  if (!found) throw new TrainingError(`no checkpoint in ${dir} (meta.json missing)`);
  const meta = readJson<CheckpointMeta>(path.join(found, 'meta.json'));
  if (meta.format !== CHECKPOINT_FORMAT)
    throw new TrainingError(`${found}/meta.json: format ${JSON.stringify(meta.format)}, expected ${CHECKPOINT_FORMAT}`);
  const topo = readJson<any>(path.join(found, 'model.json')).modelTopology;
  const w = readWeights(found, 'model.json', 'weights.bin', 'weightsManifest');
  const net = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: topo, weightSpecs: w.specs, weightData: w.data }),
  );
  return { model: { net, config: resolveConfig(meta.config), sizes: meta.sizes }, meta, dir: found };
}

/** Copy a checkpoint's weights into an existing model of the same architecture (shapes checked). */
export function restoreWeights(model: BstModel, dir: string): CheckpointMeta {
  const found = findCheckpoint(dir);
  if (!found) throw new TrainingError(`no checkpoint in ${dir} (meta.json missing)`);
  const w = readWeights(found, 'model.json', 'weights.bin', 'weightsManifest');
  const map = tf.io.decodeWeights(w.data, w.specs);
  const values = w.specs.map((s) => map[s.name]);
  const current = model.net.weights;
  try {
    if (values.length !== current.length)
      throw new TrainingError(`${found}: ${values.length} weight tensors, the model has ${current.length}`);
    values.forEach((v, i) => {
      if (v.shape.join('x') !== current[i].shape.join('x')) {
        throw new TrainingError(
          `${found}: weight ${w.specs[i].name} has shape [${v.shape}], the model's ${current[i].name} has [${current[i].shape}]`,
        );
      }
    });
    model.net.setWeights(values);
  } finally {
    tf.dispose(values);
  }
  return readJson<CheckpointMeta>(path.join(found, 'meta.json'));
}

/**
 * Restore the optimizer slots (Adam moments / Adagrad accumulators, step count) saved with a checkpoint, and
 * Adam's accumulated beta powers exactly (checkpoints written before they were saved: recomputed by setWeights,
 * close to but not bit-identical with an uninterrupted run).
 */
export async function restoreOptimizer(optimizer: tf.Optimizer, dir: string): Promise<boolean> {
  const found = findCheckpoint(dir);
  if (!found || !fs.existsSync(path.join(found, 'optimizer.json'))) return false;
  const w = readWeights(found, 'optimizer.json', 'optimizer.bin', 'weights');
  const saved = readJson<Partial<Record<keyof AdamPowers, unknown>>>(path.join(found, 'optimizer.json'));
  const powers: Partial<AdamPowers> = {};
  for (const key of ['accBeta1', 'accBeta2'] as const) {
    const v = saved[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v > 0 && v <= 1)) {
      throw new TrainingError(
        `${path.join(found, 'optimizer.json')}: ${key} must be a number in (0, 1], got ${JSON.stringify(v)}`,
      );
    }
    powers[key] = v;
  }
  const map = tf.io.decodeWeights(w.data, w.specs);
  const list = w.specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
  await optimizer.setWeights(list);
  tf.dispose(list.map((x) => x.tensor));
  setAdamPowers(optimizer, powers);
  return true;
}

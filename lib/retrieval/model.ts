/**
 * The two-tower retrieval model (Yi et al. 2019; the seed system's user/movie towers).
 *
 * User tower: the history's last maxLen items through lib/seqrec's causal transformer encoder (item embedding +
 * learned positions + `blocks` self-attention blocks), so the hidden state at position t summarises the history
 * up to t; concatenated with the user's gender, age and occupation embeddings (when the data has users and
 * config.userFeatures) and projected to vectorDim. The vector at the last position is the user's vector; in
 * training every position is a user vector for the item that follows it.
 * Movie tower: id embedding (the encoder's item table when config.shareItemEmbedding) + genre multi-hot x a
 * genre matrix + a release-year embedding, projected to vectorDim.
 * Both vectors are L2-normalised when config.normalize. Score of (user, movie) = inner product.
 */
import * as tf from '@tensorflow/tfjs';
import { dense3d } from '../model/layers/ops';
import { Rng } from '../util/rng';
import { ConfigError } from '../util/errors';
import { seqRecConfig } from '../seqrec/config';
import { SeqRecModel, createSeqRec, disposeSeqRec, padLeft, seqRecHidden } from '../seqrec/model';
import { TwoTowerConfig } from './config';
import { RetrievalFeatures } from './features';

/** A two-tower model: config, features (vocabularies and side features) and variables. */
export interface TwoTowerModel {
  config: TwoTowerConfig;
  features: RetrievalFeatures;
  /** catalogue size including index 0 */
  numItems: number;
  /** user features used (data has users and config.userFeatures) */
  useUsers: boolean;
  /** the user tower's sequence encoder (its itemEmb is the movie id table when shared) */
  encoder: SeqRecModel;
  genderEmb?: tf.Variable;
  ageEmb?: tf.Variable;
  occEmb?: tf.Variable; // [n, F]
  userW: tf.Variable;
  userB: tf.Variable; // [D + 3F or D, d], [d]
  movieEmb: tf.Variable; // [V, D] (=== encoder.itemEmb when shared)
  genreW: tf.Variable; // [G, D]
  yearEmb: tf.Variable; // [numYears, D]
  movieW: tf.Variable;
  movieB: tf.Variable; // [D, d], [d]
  genres: tf.Tensor2D; // [V, G] constant multi-hot
  years: tf.Tensor1D; // [V] int32 constant
  /** every trainable variable, in a fixed order */
  vars: tf.Variable[];
}

let created = 0;

function normalVar(rng: Rng, shape: number[], std: number, name: string): tf.Variable {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal() * std;
  return tf.tidy(() => tf.variable(tf.tensor(v, shape), true, name));
}

/** A new model with seeded weights; every width comes from the config and the features' vocabularies. */
export function createTwoTower(config: TwoTowerConfig, features: RetrievalFeatures): TwoTowerModel {
  const V = features.numItems;
  const G = features.genres.length;
  if (features.itemGenres.length !== V * G || features.itemYear.length !== V) {
    throw new ConfigError(
      `createTwoTower: features hold ${features.itemGenres.length} genre cells and ${features.itemYear.length} years for ${V} items x ${G} genres`,
    );
  }
  const { dim: D, vectorDim: d, userFeatureDim: F } = config;
  const encoder = createSeqRec(
    seqRecConfig({
      maxLen: config.maxLen,
      dim: D,
      blocks: config.blocks,
      heads: config.heads,
      dropout: config.dropout,
      seed: config.seed,
    }),
    V,
  );
  const rng = new Rng(config.seed + 7919);
  const uid = `twotower${created++}_${config.seed}`;
  const xavier = (a: number, b: number) => Math.sqrt(2 / (a + b));
  const zeros = (n: number, name: string) => tf.tidy(() => tf.variable(tf.zeros([n]), true, `${uid}/${name}`));
  const useUsers = config.userFeatures && features.users !== undefined;
  const m: Partial<TwoTowerModel> = { config, features, numItems: V, useUsers, encoder };
  let userIn = D;
  if (useUsers) {
    const u = features.users!;
    m.genderEmb = normalVar(rng, [u.numGenders, F], xavier(u.numGenders, F), `${uid}/genderEmb`);
    m.ageEmb = normalVar(rng, [u.numAges, F], xavier(u.numAges, F), `${uid}/ageEmb`);
    m.occEmb = normalVar(rng, [u.numOccupations, F], xavier(u.numOccupations, F), `${uid}/occEmb`);
    userIn += 3 * F;
  }
  m.userW = normalVar(rng, [userIn, d], xavier(userIn, d), `${uid}/userW`);
  m.userB = zeros(d, 'userB');
  m.movieEmb = config.shareItemEmbedding ? encoder.itemEmb : normalVar(rng, [V, D], xavier(V, D), `${uid}/movieEmb`);
  m.genreW = normalVar(rng, [Math.max(G, 1), D], xavier(Math.max(G, 1), D), `${uid}/genreW`);
  m.yearEmb = normalVar(rng, [features.numYears, D], xavier(features.numYears, D), `${uid}/yearEmb`);
  m.movieW = normalVar(rng, [D, d], xavier(D, d), `${uid}/movieW`);
  m.movieB = zeros(d, 'movieB');
  m.genres = (G > 0 ? tf.tensor2d(features.itemGenres, [V, G]) : tf.zeros([V, 1])) as tf.Tensor2D;
  m.years = tf.tensor1d(features.itemYear, 'int32');
  const vars = [...encoder.vars];
  if (useUsers) vars.push(m.genderEmb!, m.ageEmb!, m.occEmb!);
  vars.push(m.userW, m.userB);
  if (!config.shareItemEmbedding) vars.push(m.movieEmb);
  vars.push(m.genreW, m.yearEmb, m.movieW, m.movieB);
  m.vars = vars;
  return m as TwoTowerModel;
}

/** Free the model's variables and constants. */
export function disposeTwoTower(m: TwoTowerModel): void {
  disposeSeqRec(m.encoder);
  tf.dispose(m.vars.filter((v) => !m.encoder.vars.includes(v)));
  tf.dispose([m.genres, m.years]);
}

/** x / |x| along `axis`; a zero row (a padded position) stays zero with a finite gradient (tf.norm's is NaN at 0). */
function l2normalize(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), axis, true), 1e-12)));
}

/** [gender, age, occupation] indices of raw userIds (unknown / undefined: 0s): Int32Array [n * 3]. */
export function userFeatureIndices(m: TwoTowerModel, users: ArrayLike<number | undefined>): Int32Array {
  const out = new Int32Array(users.length * 3);
  const by = m.features.users?.byUserId;
  for (let i = 0; i < users.length; i++) {
    const f = users[i] === undefined ? undefined : by?.get(users[i] as number);
    if (f) out.set(f, i * 3);
  }
  return out;
}

/**
 * User vectors at every position [B, L, d] of left-padded histories ids [B, L] (int32); `userIdx` [B, 3]
 * int32 (gender, age, occupation) when the model uses user features. `dropoutSeed` set: training mode.
 */
export function userTower(
  m: TwoTowerModel,
  ids: tf.Tensor2D,
  userIdx?: tf.Tensor2D,
  dropoutSeed?: string,
): tf.Tensor3D {
  const L = ids.shape[1];
  let h: tf.Tensor = seqRecHidden(m.encoder, ids, dropoutSeed); // [B, L, D]
  if (m.useUsers) {
    if (!userIdx) throw new ConfigError('userTower: the model uses user features; pass userIdx [B, 3]');
    const cols = tf.unstack(userIdx, 1); // 3 x [B]
    const f = tf.concat(
      [tf.gather(m.genderEmb!, cols[0]), tf.gather(m.ageEmb!, cols[1]), tf.gather(m.occEmb!, cols[2])],
      1,
    ); // [B, 3F]
    const fl = tf.tile(tf.expandDims(f, 1), [1, L, 1]); // [B, L, 3F]
    h = tf.concat([h, fl], 2); // [B, L, D + 3F]
  }
  const u = dense3d(h, m.userW, m.userB); // [B, L, d]
  return (m.config.normalize ? l2normalize(u, 2) : u) as tf.Tensor3D; // [B, L, d]
}

/** Movie vectors [C, d] of item indices `items` [C] (int32). */
export function movieTower(m: TwoTowerModel, items: tf.Tensor1D): tf.Tensor2D {
  const x = tf.addN([
    tf.gather(m.movieEmb, items), // [C, D]
    tf.matMul(tf.gather(m.genres, items) as tf.Tensor2D, m.genreW as tf.Tensor2D), // [C, D]
    tf.gather(m.yearEmb, tf.gather(m.years, items)), // [C, D]
  ]);
  const v = tf.add(tf.matMul(x as tf.Tensor2D, m.movieW as tf.Tensor2D), m.movieB); // [C, d]
  return (m.config.normalize ? l2normalize(v, 1) : v) as tf.Tensor2D; // [C, d]
}

/** Every item's vector (inference): Float32Array [numItems * vectorDim], row 0 = the padding item. */
export function movieVectors(m: TwoTowerModel): Float32Array {
  const v = tf.tidy(() => movieTower(m, tf.range(0, m.numItems, 1, 'int32') as tf.Tensor1D)); // [V, d]
  const out = v.dataSync() as Float32Array;
  v.dispose();
  return Float32Array.from(out);
}

/**
 * User vectors (inference) from each history's last maxLen items and, when the model uses them, the raw userIds'
 * features: Float32Array [histories.length * vectorDim].
 */
export function userVectors(
  m: TwoTowerModel,
  histories: ArrayLike<number>[],
  users?: ArrayLike<number | undefined>,
  batchSize = 256,
): Float32Array {
  const L = m.config.maxLen;
  const d = m.config.vectorDim;
  const out = new Float32Array(histories.length * d);
  for (let s = 0; s < histories.length; s += batchSize) {
    const part = histories.slice(s, s + batchSize);
    const B = part.length;
    const uIdx = userFeatureIndices(
      m,
      Array.from({ length: B }, (_, i) => users?.[s + i]),
    );
    const v = tf.tidy(() => {
      const ids = tf.tensor2d(padLeft(part, L), [B, L], 'int32'); // [B, L]
      const u = userTower(m, ids, m.useUsers ? tf.tensor2d(uIdx, [B, 3], 'int32') : undefined); // [B, L, d]
      return tf.reshape(tf.slice(u, [0, L - 1, 0], [-1, 1, -1]), [B, d]); // [B, d]
    });
    out.set(v.dataSync() as Float32Array, s * d);
    v.dispose();
  }
  return out;
}

/** Scores [histories.length * numItems]: each user vector's inner product with every movie vector (row-major). */
export function twoTowerScores(
  m: TwoTowerModel,
  histories: ArrayLike<number>[],
  users?: ArrayLike<number | undefined>,
  movies?: Float32Array,
): Float32Array {
  const d = m.config.vectorDim;
  const V = m.numItems;
  const mv = movies ?? movieVectors(m);
  const uv = userVectors(m, histories, users);
  const s = tf.tidy(() => tf.matMul(tf.tensor2d(uv, [histories.length, d]), tf.transpose(tf.tensor2d(mv, [V, d])))); // [n, V]
  const out = Float32Array.from(s.dataSync() as Float32Array);
  s.dispose();
  return out;
}

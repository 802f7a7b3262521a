/**
 * Exact scoring of many candidates that share one history, without running the whole network per candidate.
 *
 * In the BST the candidate sits in the last slot of the sequence, so with one transformer block every row's
 * attention sees it -- but only through ONE key/value column. Everything else is shared or per item:
 *  - history tokens and their query/key/value projections: once per user;
 *  - each item's target token, its q/k/v, its value through the output projection and its self-score: once per
 *    model (they do not depend on the user: the target slot's position, time bucket 0 and rating 0 are fixed);
 *  - history-row attention over the history keys: once per user (softmax numerator A and denominator Z);
 *    per candidate only the extra key is merged in: ctx = (a A + b v_c) / (a Z + b), a and b rescaling to the
 *    joint maximum, so the result is the same softmax up to float rounding;
 *  - the MLP's first layer splits into sequence rows, user features (once per user) and item features
 *    (genres, year: once per model); padded history rows are dropped (the block zeroes them anyway).
 * What remains per candidate is the residual + layer norms + feed-forward of the real rows, and the MLP.
 * Scores equal the plain forward pass up to float rounding (test/recommend/shared-history.test.ts: < 1e-4).
 * Models with a number of transformer blocks other than 1 are scored with the plain forward pass.
 *
 * All per-candidate work is tf ops on [C, ...] tensors (batched matmuls), so faster backend kernels speed it up.
 */
import * as tf from '@tensorflow/tfjs';
import { PreparedData } from '../data/index';
import {
  BstModel,
  bstParts,
  headInputWidths,
  samplesToInputs,
  TransformerBlock,
  transformerBlocks,
  UserFeature,
} from '../model/index';
import { ConfigError } from '../util/errors';
import { candidateSamplesAt, HistoryCut } from './candidates';
import { DEFAULT_CHUNK, scoreItems } from './score';

/** Per-model tensors of the shared-history scorer (user-independent). */
interface ModelCache {
  block: TransformerBlock;
  sub: tf.LayersModel;
  w: Record<string, tf.Tensor>;
  /** [numItems, D] target tokens, and their q, k, v */
  xc: tf.Tensor2D;
  qc: tf.Tensor2D;
  kc: tf.Tensor2D;
  vc: tf.Tensor2D;
  /** [numItems, H, D] each item's value head h through its rows of the output projection */
  rc: tf.Tensor3D;
  /** [numItems, H] each item's attention score on itself (scaled) */
  selfScore: tf.Tensor2D;
  /** [numItems, U1] item features (genres, year) through the first MLP layer (0 when the model uses none) */
  itemContrib: tf.Tensor2D;
  /** first MLP layer: kernel rows of the flattened sequence [L*D, U1], of the user features [Fu, U1], bias [U1] */
  w1seq: tf.Tensor2D;
  w1user: tf.Tensor2D | null;
  b1: tf.Tensor1D;
  /** the other dense layers after the first, in order, and the output */
  mlp: { kernel: tf.Tensor2D; bias: tf.Tensor1D }[];
  out: { kernel: tf.Tensor2D; bias: tf.Tensor1D };
  /** tensors made here (the others are the model's own weight variables, never disposed here) */
  owned: tf.Tensor[];
  /** the weights' data ids when the cache was built: any assignment (training, setWeights) changes them */
  stamp: object[];
}

function weightStamp(model: BstModel): object[] {
  return model.net.weights.map((w) => (w.read() as unknown as { dataId: object }).dataId);
}

const caches = new WeakMap<BstModel, ModelCache>();

/** True when the shared-history path applies to this model (exactly one transformer block). */
export function sharedHistorySupported(model: BstModel): boolean {
  const c = model.config;
  return (
    c.numBlocks === 1 &&
    transformerBlocks(model).length === 1 &&
    (c.attentionScale ?? 1) === 1 &&
    (c.sequenceOutput ?? 'flatten') === 'flatten'
  );
}

function layerWeights(layer: tf.layers.Layer): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  const vals = layer.getWeights();
  layer.weights.forEach((v, i) => {
    const name = v.originalName.split('/').pop() as string;
    out[name] = vals[i];
  });
  return out;
}

function buildCache(model: BstModel, data: PreparedData, cut: HistoryCut): ModelCache {
  const c = model.config;
  const block = transformerBlocks(model)[0];
  const sub = tf.model({ inputs: model.net.inputs, outputs: block.input as tf.SymbolicTensor[] });
  const L = c.seqLen;
  const H = block.numHeads;
  const numItems = model.sizes.numItems;
  const { user: fu, item: fi } = headInputWidths(model);
  const w = layerWeights(block);
  const parts = bstParts(model);
  const first = parts.mlp[0];
  const made = tf.tidy(() => {
    // the target slot's non-item columns (position / time bucket 0 / rating 0) do not depend on the user
    const probe = candidateSamplesAt(data, cut, [1]);
    const xs = samplesToInputs(probe, model.sizes, model.config);
    const [x] = sub.apply(xs, { training: false }) as tf.Tensor[]; // [1, L, D]
    const D = x.shape[2] as number;
    const E = c.embedDim;
    const table = parts.itemEmbedding; // [numItems, E]
    const tail = tf.slice(x, [0, L - 1, E], [1, 1, D - E]).reshape([1, D - E]); // [1, D-E]
    const xc = (D > E ? tf.concat([table, tf.tile(tail, [numItems, 1])], 1) : table) as tf.Tensor2D; // [numItems, D]
    const proj = (a: tf.Tensor2D, k: string) =>
      tf.add(tf.matMul(a, w['w' + k] as tf.Tensor2D), w['b' + k]) as tf.Tensor2D; // [n, D]
    const qc = proj(xc, 'q'),
      kc = proj(xc, 'k'),
      vc = proj(xc, 'v');
    const dh = D / H;
    const wo = w.wo.reshape([H, dh, D]); // [H, dh, D]
    const vHeads = tf.transpose(vc.reshape([numItems, H, dh]), [1, 0, 2]); // [H, numItems, dh]
    const rc = tf.transpose(tf.matMul(vHeads, wo), [1, 0, 2]) as tf.Tensor3D; // [numItems, H, D]
    const selfScore = tf.mul(tf.sum(tf.mul(qc, kc).reshape([numItems, H, dh]), -1), 1 / Math.sqrt(dh)) as tf.Tensor2D; // [numItems, H]
    const U1 = first.kernel.shape[1];
    const w1seq = tf.slice(first.kernel, [0, 0], [L * D, U1]) as tf.Tensor2D; // [L*D, U1]
    const w1user = fu > 0 ? (tf.slice(first.kernel, [L * D, 0], [fu, U1]) as tf.Tensor2D) : null; // [Fu, U1]
    let itemContrib = tf.zeros([numItems, U1]) as tf.Tensor2D;
    if (fi > 0) {
      const feats: tf.Tensor[] = [];
      if (c.useGenres) {
        const g = parts.genreProjection!;
        const genres = tf.tensor2d(data.features.itemGenres, [numItems, model.sizes.numGenres]); // [numItems, G]
        feats.push(tf.add(tf.matMul(genres, g.kernel), g.bias)); // [numItems, genreDim]
      }
      if (c.useYear) {
        const years = parts.yearEmbedding!;
        feats.push(tf.gather(years, tf.tensor1d(data.features.itemYear, 'int32'))); // [numItems, yearDim]
      }
      const itemFeats = feats.length === 1 ? feats[0] : tf.concat(feats, 1); // [numItems, Fi]
      itemContrib = tf.matMul(itemFeats, tf.slice(first.kernel, [L * D + fu, 0], [fi, U1])) as tf.Tensor2D; // [numItems, U1]
    }
    const made: Record<string, tf.Tensor> = {
      xc: xc === table ? tf.clone(table) : xc,
      qc,
      kc,
      vc,
      rc,
      selfScore,
      itemContrib,
      w1seq,
    };
    if (w1user) made.w1user = w1user;
    return made;
  });
  const mlp = parts.mlp.slice(1);
  return {
    block,
    sub,
    w,
    xc: made.xc as tf.Tensor2D,
    qc: made.qc as tf.Tensor2D,
    kc: made.kc as tf.Tensor2D,
    vc: made.vc as tf.Tensor2D,
    rc: made.rc as tf.Tensor3D,
    selfScore: made.selfScore as tf.Tensor2D,
    itemContrib: made.itemContrib as tf.Tensor2D,
    w1seq: made.w1seq as tf.Tensor2D,
    w1user: (made.w1user as tf.Tensor2D | undefined) ?? null,
    b1: first.bias,
    mlp,
    out: parts.output,
    owned: Object.values(made),
    stamp: weightStamp(model),
  };
}

/**
 * Free the per-model tensors of the shared-history scorer (about numItems x (4 D + H D + mlp width) floats);
 * the next call rebuilds them. They are also rebuilt automatically when the model's weights change.
 */
export function releaseSharedHistory(model: BstModel): void {
  const cache = caches.get(model);
  if (!cache) return;
  tf.dispose(cache.owned);
  caches.delete(model);
}

/**
 * Scores of `items` (item indices) for the history `cut`, equal to the plain forward pass (scoreItems) up to
 * float rounding. Throws a ConfigError for a model without exactly one transformer block
 * (see `sharedHistorySupported`); scoreItemsExact picks the right path.
 */
export function scoreSharedHistory(
  model: BstModel,
  data: PreparedData,
  cut: HistoryCut,
  items: ArrayLike<number>,
): Float32Array {
  if (!sharedHistorySupported(model)) {
    throw new ConfigError(
      `shared-history scoring needs exactly 1 transformer block, attentionScale 1 and sequenceOutput 'flatten'; the model has ${model.config.numBlocks}, ${model.config.attentionScale}, '${model.config.sequenceOutput}'`,
    );
  }
  const C = items.length;
  if (C === 0) return new Float32Array(0);
  for (let t = 0; t < C; t++) {
    if (!(items[t] >= 1 && items[t] < model.sizes.numItems))
      throw new ConfigError(`candidate item index ${items[t]} is outside 1..${model.sizes.numItems - 1}`);
  }
  let cache = caches.get(model);
  if (cache) {
    const now = weightStamp(model);
    if (now.length !== cache.stamp.length || now.some((d, i) => d !== cache!.stamp[i])) {
      releaseSharedHistory(model); // the weights changed since the per-item tensors were computed
      cache = undefined;
    }
  }
  if (!cache) {
    cache = buildCache(model, data, cut);
    caches.set(model, cache);
  }
  const m = cache;
  const c = model.config;
  const L = c.seqLen;
  const it = data.interactions;
  const h = Math.min(L - 1, cut.end - it.userOffsets[cut.user]); // real history rows
  const H = m.block.numHeads;
  const alpha = m.block.leakyAlpha;
  const eps = m.block.epsilon;
  const w = m.w;
  const out = tf.tidy(() => {
    const idx = tf.tensor1d(Int32Array.from(items as ArrayLike<number>), 'int32'); // [C]
    const probe = candidateSamplesAt(data, cut, [items[0]]);
    const [x] = m.sub.apply(samplesToInputs(probe, model.sizes, model.config), { training: false }) as tf.Tensor[]; // [1, L, D]
    const D = x.shape[2] as number;
    const dh = D / H;
    const scale = 1 / Math.sqrt(dh);
    const xcC = tf.gather(m.xc, idx); // [C, D]
    const qcC = tf.gather(m.qc, idx); // [C, D]
    const kcC = tf.gather(m.kc, idx); // [C, D]
    const rcC = tf.gather(m.rc, idx); // [C, H, D]
    const selfC = tf.gather(m.selfScore, idx); // [C, H]
    const ln = (t: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const mean = tf.mean(t, -1, true);
      const centered = tf.sub(t, mean);
      const variance = tf.mean(tf.square(centered), -1, true);
      return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), g), b);
    };
    const headsOf = (t: tf.Tensor, n: number) => tf.transpose(t.reshape([n, H, dh]), [1, 0, 2]); // [n, D] -> [H, n, dh]

    // --- target row: query = the candidate, keys = history rows + itself ---
    let attTarget: tf.Tensor; // [C, D]
    let rows: tf.Tensor; // [C, h + 1, D] block inputs + attention, before the first layer norm
    if (h === 0) {
      attTarget = tf.add(tf.sum(rcC, 1), w.bo); // softmax over one key = 1
      rows = tf.expandDims(tf.add(xcC, attTarget), 1); // [C, 1, D]
    } else {
      const xh = tf.slice(x, [0, L - 1 - h, 0], [1, h, D]).reshape([h, D]); // [h, D] real history tokens
      const qh = tf.add(tf.matMul(xh, w.wq as tf.Tensor2D), w.bq); // [h, D]
      const kh = tf.add(tf.matMul(xh, w.wk as tf.Tensor2D), w.bk); // [h, D]
      const vh = tf.add(tf.matMul(xh, w.wv as tf.Tensor2D), w.bv); // [h, D]
      const qH = headsOf(qh, h),
        kH = headsOf(kh, h),
        vH = headsOf(vh, h); // [H, h, dh]
      const wo = w.wo.reshape([H, dh, D]); // [H, dh, D]
      const uH = tf.matMul(vH, wo); // [H, h, D] history values through the output projection
      // target row scores on the history keys: [C, H, h]
      const qcH = headsOf(qcC, C); // [H, C, dh]
      const tScores = tf.mul(tf.matMul(qcH, tf.transpose(kH, [0, 2, 1])), scale); // [H, C, h]
      const selfT = tf.expandDims(tf.transpose(selfC), 2); // [H, C, 1]
      const all = tf.softmax(tf.concat([tScores, selfT], 2)); // [H, C, h + 1]
      const pHist = tf.slice(all, [0, 0, 0], [H, C, h]); // [H, C, h]
      const pSelf = tf.slice(all, [0, 0, h], [H, C, 1]); // [H, C, 1]
      const pFlat = tf.reshape(tf.transpose(pHist, [1, 0, 2]), [C, H * h]); // [C, H*h]
      const fromHist = tf.matMul(pFlat, tf.reshape(uH, [H * h, D]) as tf.Tensor2D); // [C, D] summed over heads and keys
      const fromSelf = tf.sum(tf.mul(tf.transpose(pSelf, [1, 0, 2]), rcC), 1); // [C, D]
      attTarget = tf.add(tf.add(fromHist, fromSelf), w.bo); // [C, D]

      // --- history rows: keys = history rows (shared) + the candidate ---
      const sHH = tf.mul(tf.matMul(qH, tf.transpose(kH, [0, 2, 1])), scale); // [H, h(query), h(key)]
      const mx = tf.max(sHH, 2, true); // [H, h, 1]
      const eHH = tf.exp(tf.sub(sHH, mx)); // [H, h, h]
      const z0 = tf.sum(eHH, 2); // [H, h]
      const pA = tf.matMul(tf.div(eHH, tf.expandDims(z0, 2)), uH); // [H, h, D] = softmax over history keys, through Wo
      const kcH = headsOf(kcC, C); // [H, C, dh]
      const sHC = tf.mul(tf.matMul(qH, tf.transpose(kcH, [0, 2, 1])), scale); // [H, h, C] history query i on candidate key
      const mxHC = tf.maximum(mx, sHC); // [H, h, C] joint maximum
      const a = tf.mul(tf.exp(tf.sub(mx, mxHC)), tf.expandDims(z0, 2)); // [H, h, C] history mass, rescaled
      const b = tf.exp(tf.sub(sHC, mxHC)); // [H, h, C] candidate mass
      const denom = tf.add(a, b);
      // summed over heads on a middle axis (no reduction over a leading axis)
      const wHist = tf.expandDims(tf.transpose(tf.div(a, denom), [2, 1, 0]), 3); // [C, h, H, 1] weight of the history part
      const wCand = tf.expandDims(tf.transpose(tf.div(b, denom), [2, 1, 0]), 3); // [C, h, H, 1] weight of the candidate's value
      const pRows = tf.expandDims(tf.transpose(pA, [1, 0, 2]), 0); // [1, h, H, D]
      const rv = tf.expandDims(rcC, 1); // [C, 1, H, D]
      const mixed = tf.add(tf.mul(wHist, pRows), tf.mul(wCand, rv)); // [C, h, H, D]
      const attHist = tf.add(tf.sum(mixed, 2), w.bo); // [C, h, D]
      const histRows = tf.add(tf.expandDims(xh, 0), attHist); // [C, h, D]
      rows = tf.concat([histRows, tf.expandDims(tf.add(xcC, attTarget), 1)], 1); // [C, h + 1, D]
    }
    const R = h + 1;
    const s1 = ln(rows, w.ln1_gamma, w.ln1_beta).reshape([C * R, D]); // [C*R, D]
    const f1 = tf.leakyRelu(tf.add(tf.matMul(s1 as tf.Tensor2D, w.ffn_w1 as tf.Tensor2D), w.ffn_b1), alpha); // [C*R, F]
    const f2 = tf.add(tf.matMul(f1, w.ffn_w2 as tf.Tensor2D), w.ffn_b2); // [C*R, D]
    const blockOut = ln(tf.add(s1, f2), w.ln2_gamma, w.ln2_beta).reshape([C, R * D]); // [C, R*D] real rows only
    const U1 = m.b1.shape[0];
    const w1rows = tf.slice(m.w1seq, [(L - R) * D, 0], [R * D, U1]); // [R*D, U1] the real slots' rows
    const h1 = tf.add(tf.matMul(blockOut as tf.Tensor2D, w1rows), tf.gather(m.itemContrib, idx)); // [C, U1]
    let bias: tf.Tensor = m.b1;
    if (m.w1user) {
      const uf = userFeatures(model, data, cut.user); // [1, Fu]
      bias = tf.add(bias, tf.matMul(uf, m.w1user)); // [1, U1]
    }
    let act = tf.leakyRelu(tf.add(h1, bias), c.leakyAlpha); // [C, U1]
    for (const layer of m.mlp)
      act = tf.leakyRelu(tf.add(tf.matMul(act as tf.Tensor2D, layer.kernel), layer.bias), c.leakyAlpha); // [C, units]
    const y = tf.add(tf.matMul(act as tf.Tensor2D, m.out.kernel), m.out.bias); // [C, 1]
    return c.task === 'like' ? tf.sigmoid(y) : y;
  });
  const scores = out.dataSync() as Float32Array;
  out.dispose();
  return scores.slice();
}

/** The user's id and demographic embeddings, concatenated in the model's feature order: [1, Fu]. */
function userFeatures(model: BstModel, data: PreparedData, u: number): tf.Tensor2D {
  const f = data.features;
  const index: Record<UserFeature, number> = {
    userIdx: u < model.sizes.numUsers ? u : 0,
    gender: f.userGender[u],
    age: f.userAge[u],
    occupation: f.userOccupation[u],
    zip: f.userZip[u],
  };
  const rows = bstParts(model).userEmbeddings.map(({ feature, table }) =>
    tf.gather(table, tf.tensor1d([index[feature]], 'int32')),
  ); // each [1, dim]
  return (rows.length === 1 ? rows[0] : tf.concat(rows, 1)) as tf.Tensor2D;
}

/**
 * Exact scores of `items` for `cut`: the shared-history path when the model has one transformer block,
 * else the plain forward pass (scoreItems). Both give the model's own scores (up to float rounding).
 */
export function scoreItemsExact(
  model: BstModel,
  data: PreparedData,
  cut: HistoryCut,
  items: ArrayLike<number>,
  chunkSize = DEFAULT_CHUNK,
): Float32Array {
  if (!sharedHistorySupported(model)) return scoreItems(model, data, cut, items, chunkSize);
  const out = new Float32Array(items.length);
  for (let i = 0; i < items.length; i += chunkSize) {
    const part = Array.prototype.slice.call(items, i, Math.min(items.length, i + chunkSize)) as number[];
    out.set(scoreSharedHistory(model, data, cut, part), i);
  }
  return out;
}

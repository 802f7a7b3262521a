/**
 * Displays around the model (notebooks 03-05): a layer table, a live training progress display for
 * lib/model's ProgressBar, and attention matrices with the titles of a sample's movies.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Samples } from '../data/types';
import type { Vocabs } from '../data/vocab';
import { escapeHtml } from './html';
import { kernelDisplay } from './display';
import { HeatmapOptions, heatmapFigure } from './charts';
import type { Figure } from './plotly';

/** One row of a layer table. */
export interface LayerRow {
  layer: string;
  type: string;
  output: string;
  params: number;
  trainable: boolean;
}

/** The layers of a tfjs model with class, output shape and parameter count (a `model.summary()` as rows). */
export function layerRows(net: tf.LayersModel): LayerRow[] {
  return net.layers.map((l) => {
    let output = '';
    try {
      output = JSON.stringify(l.outputShape).replace(/null/g, 'B');
    } catch {
      output = '?';
    }
    return { layer: l.name, type: l.getClassName(), output, params: l.countParams(), trainable: l.trainable };
  });
}

/** Parameter counts of a model: total, trainable, and per group (first part of the layer name before '_'). */
export function parameterCounts(net: tf.LayersModel): {
  total: number;
  trainable: number;
  byGroup: Array<{ group: string; params: number }>;
} {
  let total = 0;
  let trainable = 0;
  const groups = new Map<string, number>();
  for (const l of net.layers) {
    const n = l.countParams();
    total += n;
    if (l.trainable) trainable += n;
    const g = l.name.replace(/_\d+$/, '').replace(/_(embedding|flat|projection|act|dropout)$/, '');
    if (n > 0) groups.set(g, (groups.get(g) ?? 0) + n);
  }
  return {
    total,
    trainable,
    byGroup: [...groups.entries()].map(([group, params]) => ({ group, params })).sort((a, b) => b.params - a.params),
  };
}

/** Options accepted by lib/model's ProgressBar (`write`, `isTTY`, `redrawMs`). */
export interface ProgressSink {
  write: (s: string) => void;
  isTTY: boolean;
  redrawMs: number;
}

/**
 * Progress output for lib/model's training progress bars: in a notebook ONE HTML line redrawn in place for
 * every bar of the run (the next epoch's bar replaces the finished one; epoch summary lines print below it);
 * elsewhere plain stdout lines. Pass it as `train({ progress: liveProgress() })`.
 */
export function liveProgress(opts: { redrawMs?: number } = {}): ProgressSink {
  const d = kernelDisplay();
  if (!d?.newDisplay)
    return { write: (s) => void process.stdout.write(s), isTTY: false, redrawMs: opts.redrawMs ?? 250 };
  let current: { html(s: string): void } | null = null;
  return {
    isTTY: true,
    redrawMs: opts.redrawMs ?? 250,
    write(s: string) {
      // eslint-disable-next-line no-control-regex
      const line = s.replace(/\r|\x1b\[K/g, '').trim();
      if (!line) return;
      if (!current) current = d.newDisplay!();
      current.html(`<pre class="bst-progress" style="margin:0">${escapeHtml(line)}</pre>`);
    },
  };
}

/** Attention weights as returned by lib/model's `attentionWeights`: [n, H, L, L] row-major. */
export interface AttentionLike {
  shape: [number, number, number, number];
  data: Float32Array;
}

/** The [L, L] attention matrix of one sample: one head, or the mean over heads ('mean'). */
export function attentionMatrix(att: AttentionLike, sample = 0, head: number | 'mean' = 'mean'): number[][] {
  const [n, H, L, L2] = att.shape;
  if (sample < 0 || sample >= n) throw new Error(`attentionMatrix: sample ${sample} outside 0..${n - 1}`);
  if (head !== 'mean' && (head < 0 || head >= H)) throw new Error(`attentionMatrix: head ${head} outside 0..${H - 1}`);
  const heads = head === 'mean' ? Array.from({ length: H }, (_, h) => h) : [head];
  const out: number[][] = [];
  for (let i = 0; i < L; i++) {
    const row = new Array(L2).fill(0);
    for (const h of heads) {
      const base = ((sample * H + h) * L + i) * L2;
      for (let j = 0; j < L2; j++) row[j] += att.data[base + j] / heads.length;
    }
    out.push(row);
  }
  return out;
}

/** How far an attention matrix is from uniform, over the weights of real (non-padding) keys. */
export interface AttentionSpread {
  /** smallest and largest weight a real key gets */
  min: number;
  max: number;
  /** mean over rows of the normalised entropy (1 = uniform over that row's real keys) */
  normalisedEntropy: number;
  /** max - min < 0.01 or normalisedEntropy > 0.99 */
  nearUniform: boolean;
}

/**
 * The spread of an [L, L] attention matrix: weights of 0 (padding keys, masked) are left out; rows with
 * fewer than two real keys count as uniform. Pure.
 */
export function attentionSpread(z: number[][]): AttentionSpread {
  let min = Infinity;
  let max = -Infinity;
  let entropySum = 0;
  let rows = 0;
  for (const row of z) {
    const w = row.filter((v) => Number.isFinite(v) && v > 0);
    if (w.length === 0) continue;
    for (const v of w) ((min = Math.min(min, v)), (max = Math.max(max, v)));
    const total = w.reduce((a, v) => a + v, 0);
    const h = -w.reduce((a, v) => a + (v / total) * Math.log(v / total), 0);
    entropySum += w.length > 1 ? h / Math.log(w.length) : 1;
    rows += 1;
  }
  if (rows === 0) return { min: 0, max: 0, normalisedEntropy: 1, nearUniform: true };
  const normalisedEntropy = entropySum / rows;
  return { min, max, normalisedEntropy, nearUniform: max - min < 0.01 || normalisedEntropy > 0.99 };
}

/** The one-line caption of an attention heatmap: its real range, and whether it is near uniform. Pure. */
export function attentionCaption(s: AttentionSpread): string {
  const range = `range ${s.min.toFixed(4)}\u2013${s.max.toFixed(4)}`;
  return s.nearUniform
    ? `attention is near uniform (${range}, normalised entropy ${s.normalisedEntropy.toFixed(3)}): the pattern explains nothing`
    : `attention weights ${range}, normalised entropy ${s.normalisedEntropy.toFixed(3)} (1 = uniform)`;
}

/**
 * An attention heatmap that does not stretch noise into a pattern: the colour scale is fixed to the weights'
 * real scale [0, 1] (a weight is a share of the row's attention), the title carries attentionCaption (the
 * real range; "near uniform" when it is), and near uniform cells are annotated with 4 decimals. Pure.
 */
export function attentionHeatmapFigure(z: number[][], opts: HeatmapOptions = {}): Figure {
  const spread = attentionSpread(z);
  // near uniform, 2 decimals would print 0.12 / 0.13 side by side: show the digits where the weights differ
  const annotate = opts.annotate !== undefined && spread.nearUniform ? Math.max(opts.annotate, 4) : opts.annotate;
  const fig = heatmapFigure(z, { zmin: 0, zmax: 1, ...opts, annotate });
  const title = opts.title ?? 'Attention weights';
  fig.layout.title = { text: `${title}<br><sub>${escapeHtml(attentionCaption(spread))}</sub>` };
  fig.layout.margin = { ...((fig.layout.margin as object | undefined) ?? {}), t: 80 };
  return fig;
}

/**
 * Labels of one sample's sequence slots: movie titles of its history and target ('(padding)' for empty slots),
 * the target marked, each prefixed with its slot number so repeated titles stay distinct.
 */
export function sequenceLabels(
  samples: Samples,
  i: number,
  vocabs: Vocabs,
  titles: Map<number, string>,
  maxLength = 30,
): string[] {
  const L = samples.seqLen;
  const out: string[] = [];
  for (let j = 0; j < L; j++) {
    const item = samples.itemSeq[i * L + j];
    const movieId = vocabs.item.value(item) as number | undefined;
    let t = item === 0 ? '(padding)' : (titles.get(movieId ?? -1) ?? `movie ${movieId}`);
    if (t.length > maxLength) t = t.slice(0, maxLength - 1) + '\u2026';
    const r = samples.ratingSeq[i * L + j];
    out.push(j === L - 1 ? `${j}: TARGET ${t}` : `${j}: ${t}${item !== 0 && r > 0 ? ` (${r})` : ''}`);
  }
  return out;
}

/** Target positions of `positions` whose user has at least `history` earlier ratings (full windows). */
export function fullHistoryTargets(
  positions: ArrayLike<number>,
  userOffsets: Int32Array,
  history: number,
  limit = Infinity,
): number[] {
  const out: number[] = [];
  let r = 0;
  for (let i = 0; i < positions.length && out.length < limit; i++) {
    const p = positions[i];
    // positions ascend: advance the run pointer
    while (r + 1 < userOffsets.length && userOffsets[r + 1] <= p) r++;
    if (p - userOffsets[r] >= history) out.push(p);
  }
  return out;
}

/**
 * Displays around the model (notebooks 03-05): a layer table, a live training progress display for
 * lib/model's ProgressBar, and attention matrices with the titles of a sample's movies.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Samples } from '../data/types';
import type { Vocabs } from '../data/vocab';
import { escapeHtml } from './html';
import { kernelDisplay } from './display';

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
export function parameterCounts(net: tf.LayersModel): { total: number; trainable: number; byGroup: Array<{ group: string; params: number }> } {
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
  return { total, trainable, byGroup: [...groups.entries()].map(([group, params]) => ({ group, params })).sort((a, b) => b.params - a.params) };
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
  if (!d?.newDisplay) return { write: (s) => void process.stdout.write(s), isTTY: false, redrawMs: opts.redrawMs ?? 250 };
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

/**
 * Labels of one sample's sequence slots: movie titles of its history and target ('(padding)' for empty slots),
 * the target marked, each prefixed with its slot number so repeated titles stay distinct.
 */
export function sequenceLabels(samples: Samples, i: number, vocabs: Vocabs, titles: Map<number, string>, maxLength = 30): string[] {
  const L = samples.seqLen;
  const out: string[] = [];
  for (let j = 0; j < L; j++) {
    const item = samples.itemSeq[i * L + j];
    const movieId = vocabs.item.value(item) as number | undefined;
    let t = item === 0 ? '(padding)' : titles.get(movieId ?? -1) ?? `movie ${movieId}`;
    if (t.length > maxLength) t = t.slice(0, maxLength - 1) + '\u2026';
    const r = samples.ratingSeq[i * L + j];
    out.push(j === L - 1 ? `${j}: TARGET ${t}` : `${j}: ${t}${item !== 0 && r > 0 ? ` (${r})` : ''}`);
  }
  return out;
}

/** Target positions of `positions` whose user has at least `history` earlier ratings (full windows). */
export function fullHistoryTargets(positions: ArrayLike<number>, userOffsets: Int32Array, history: number, limit = Infinity): number[] {
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

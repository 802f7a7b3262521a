/**
 * How far a trained BST's attention is from uniform: the target slot's attention row (the row that decides
 * what the candidate reads from the history), summarised over a set of samples. Used by the attention study
 * (bench/attention.ts), notebooks 03/04 and the README's claims about attention.
 */
import { Samples } from '../data/types';
import { BstModel } from './build';
import { attentionWeights } from './predict';

/** Summary of the target row's attention over samples with at least two real keys. */
export interface AttentionSummary {
  /** samples summarised (those with >= 2 real positions, the target included) */
  samples: number;
  /** mean over samples and heads of entropy / log(real keys): 1 = uniform, 0 = all weight on one key */
  normalisedEntropy: number;
  /** mean over samples and heads of (largest - smallest weight) over the real keys */
  spread: number;
  /** mean over samples and heads of the largest weight times the number of real keys (1 = uniform) */
  peakOverUniform: number;
  /** mean weight the target row puts on itself */
  selfWeight: number;
}

/**
 * Summarise the target row's attention of transformer block `block` (default 0) over `batches` (inference
 * mode). Padded keys are excluded; samples whose only real key is the target are skipped (their row is 1).
 */
export function attentionSummary(model: BstModel, batches: Iterable<Samples>, block = 0): AttentionSummary {
  let n = 0;
  let rows = 0;
  let ent = 0;
  let spread = 0;
  let peak = 0;
  let self = 0;
  for (const b of batches) {
    const att = attentionWeights(model, b, block);
    const [N, H, L] = att.shape;
    for (let s = 0; s < N; s++) {
      const real: number[] = [];
      for (let j = 0; j < L; j++) if (j === L - 1 || b.itemSeq[s * L + j] !== 0) real.push(j);
      if (real.length < 2) continue;
      n++;
      for (let h = 0; h < H; h++) {
        const row = ((s * H + h) * L + (L - 1)) * L; // the target's row
        let e = 0;
        let lo = Infinity;
        let hi = -Infinity;
        for (const j of real) {
          const p = att.data[row + j];
          if (p > 0) e -= p * Math.log(p);
          lo = Math.min(lo, p);
          hi = Math.max(hi, p);
        }
        ent += e / Math.log(real.length);
        spread += hi - lo;
        peak += hi * real.length;
        self += att.data[row + L - 1];
        rows++;
      }
    }
  }
  const m = (v: number) => (rows > 0 ? v / rows : NaN);
  return { samples: n, normalisedEntropy: m(ent), spread: m(spread), peakOverUniform: m(peak), selfWeight: m(self) };
}

/**
 * Retrieval metrics on next-item cases (lib/eval/next-item's protocol: full ranking, seen items excluded,
 * pessimistic ties): recall@M = the share of cases whose target ranks within the top M (HR@M; one target per
 * case), for several M at once.
 */
import { ConfigError } from '../util/errors';
import { NextItemCase, NextItemScorer, pessimisticRank } from '../eval/next-item';

/** The M values of the retrieval tables. */
export const RECALL_MS = [10, 20, 50, 100, 200] as const;

/** recall@M per M, plus the number of cases. */
export interface RecallAtM {
  cases: number;
  /** M -> share of targets ranked <= M */
  recall: Record<number, number>;
}

/** Options of recallAtM. */
export interface RecallAtMOptions {
  /** catalogue size including index 0 */
  numItems: number;
  /** the M values (default RECALL_MS) */
  ms?: readonly number[];
  /** cases per scorer call (default 256) */
  batchSize?: number;
}

/** Recall@M of a scorer over cases (a target unknown to the catalogue is a miss). */
export function recallAtM(scorer: NextItemScorer, cases: NextItemCase[], o: RecallAtMOptions): RecallAtM {
  const ms = o.ms ?? RECALL_MS;
  const V = o.numItems;
  const bs = o.batchSize ?? 256;
  for (const m of ms)
    if (!(Number.isInteger(m) && m >= 1)) throw new ConfigError(`recallAtM: every M must be an integer >= 1, got ${m}`);
  const hits = new Float64Array(ms.length);
  for (let b0 = 0; b0 < cases.length; b0 += bs) {
    const batch = cases.slice(b0, b0 + bs);
    const scores = scorer(batch.map((c) => c.input));
    if (scores.length !== batch.length * V)
      throw new ConfigError(
        `recallAtM: the scorer returned ${scores.length} scores for ${batch.length} inputs x ${V} items`,
      );
    batch.forEach((c, r) => {
      const rank = pessimisticRank(scores.subarray(r * V, (r + 1) * V), c.target, c.input);
      ms.forEach((m, i) => {
        if (rank <= m) hits[i]++;
      });
    });
  }
  const recall: Record<number, number> = {};
  ms.forEach((m, i) => (recall[m] = hits[i] / Math.max(1, cases.length)));
  return { cases: cases.length, recall };
}

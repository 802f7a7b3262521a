/**
 * The diversity trade-off of a re-rank on the next-item protocol (lib/eval/next-item): each held-out case's
 * candidates (e.g. the pipeline's retrieved top M with their blended scores) are cut to a top-k list by MMR
 * (diversity.ts) at several relevance weights lambda, and each lambda's lists are measured: HR@k and NDCG@k of
 * the case's target, catalogue coverage and mean intra-list genre diversity. lambda = 1 is the plain top-k.
 */
import { NextItemCase } from '../eval/next-item';
import { ConfigError } from '../util/errors';
import { catalogueCoverage, GenreTable, intraListDiversity, mmrRerank } from './diversity';
import { blendScores, PipelineCandidates, PipelineSetting } from './pipeline';
import { RankedItems, topK } from './score';

/** One lambda of the curve: accuracy and diversity of its top-k lists. */
export interface RerankPoint {
  lambda: number;
  /** share of cases whose target is in the list */
  hr: number;
  ndcg: number;
  /** distinct listed items / (numItems - 1) */
  coverage: number;
  /** mean intra-list genre diversity (1 - genre cosine over pairs) */
  diversity: number;
}

/** Options of `rerankCurve`. */
export interface RerankCurveOptions {
  /** held-out cases (target per case; a target of 0 is always a miss) */
  cases: NextItemCase[];
  /** per case: its candidates and their scores (any order; already-seen movies must not be among them) */
  lists: RankedItems[];
  /** relevance weights to measure, each in [0, 1] */
  lambdas: readonly number[];
  genres: GenreTable;
  /** catalogue size including index 0 */
  numItems: number;
  /** list length (default 10) */
  k?: number;
  /** MMR pool per list (default all candidates) */
  pool?: number;
}

/** HR@k, NDCG@k, coverage and intra-list diversity of MMR lists at every lambda (see the module comment). */
export function rerankCurve(o: RerankCurveOptions): RerankPoint[] {
  const k = o.k ?? 10;
  if (o.lists.length !== o.cases.length)
    throw new ConfigError(`rerankCurve: ${o.lists.length} candidate lists for ${o.cases.length} cases`);
  if (!(Number.isInteger(k) && k >= 1)) throw new ConfigError(`rerankCurve: k must be an integer >= 1, got ${k}`);
  const n = Math.max(1, o.cases.length);
  return o.lambdas.map((lambda) => {
    let hits = 0,
      ndcg = 0,
      div = 0;
    const shown: Int32Array[] = o.lists.map((c, r) => {
      const list = mmrRerank({
        items: c.items,
        scores: c.scores,
        k,
        lambda,
        genres: o.genres,
        pool: o.pool ?? c.items.length,
      }).items;
      const at = o.cases[r].target > 0 ? list.indexOf(o.cases[r].target) : -1;
      if (at >= 0) {
        hits++;
        ndcg += 1 / Math.log2(at + 2);
      }
      div += intraListDiversity(list, o.genres);
      return list;
    });
    return { lambda, hr: hits / n, ndcg: ndcg / n, coverage: catalogueCoverage(shown, o.numItems), diversity: div / n };
  });
}

/**
 * Each case's pipeline list at a setting: its retrieved top `s.m` with their blended scores (blendScores),
 * best first. The input of `rerankCurve` and of one user's displayed list.
 */
export function pipelineLists(cand: PipelineCandidates, s: PipelineSetting): RankedItems[] {
  return cand.items.map((items, r) => {
    const scores = blendScores(cand.ranker[r], s.m, s.weight);
    return topK(items.subarray(0, scores.length), scores, scores.length);
  });
}

/**
 * Tables and charts of notebook 07 (next-item retrieval): the protocol in numbers, one metrics row per model,
 * the recall@M curve of the retrievers, the re-rank's trade-off curves and lists side by side. Pure functions
 * of result objects; the notebook shows them with showTable / plot.
 */
import type { NextItemMetrics, NextItemSplit, SequenceSet } from '../eval/next-item';
import type { RerankPoint } from '../recommend/rerank-curve';
import type { RecallAtM } from '../retrieval/evaluate';
import { ConfigError } from '../util/errors';
import { lineFigure, TradeoffPoint } from './charts';
import { Figure } from './plotly';

/** One model's next-item result (validation optional). */
export interface NextItemResultRow {
  model: string;
  val?: NextItemMetrics;
  test: NextItemMetrics;
}

/** The leave-one-out protocol in numbers: users, catalogue, events per part, unknown targets. */
export function protocolRows(split: NextItemSplit): Record<string, string | number>[] {
  const events = (s: SequenceSet) => s.items.reduce((a, b) => a + b.length, 0);
  const row = (part: string, cases: number, fit: SequenceSet, unknown: number) => ({
    part,
    cases,
    'fit events (inputs and training)': events(fit),
    'fit users': fit.items.length,
    'targets unknown to the catalogue': unknown,
  });
  return [
    row(
      "validation (each user's second-to-last rating)",
      split.val.cases.length,
      split.val.fit,
      split.val.cases.filter((c) => c.target === 0).length,
    ),
    row(
      "test (each user's last rating)",
      split.test.cases.length,
      split.test.fit,
      split.test.cases.filter((c) => c.target === 0).length,
    ),
    {
      part: `catalogue: ${split.numItems - 1} movies ranked per case (seen excluded)`,
      cases: '',
      'fit events (inputs and training)': '',
      'fit users': '',
      'targets unknown to the catalogue': '',
    },
  ];
}

/** Table rows: validation NDCG@10 and the test metrics (HR@10, HR@20, NDCG@10, MRR@10, coverage@10, novelty). */
export function nextItemRows(rows: NextItemResultRow[]): Record<string, string | number>[] {
  return rows.map((r) => ({
    model: r.model,
    'val NDCG@10': r.val ? r.val.ndcg10 : NaN,
    'HR@10': r.test.hr10,
    'HR@20': r.test.hr20,
    'NDCG@10': r.test.ndcg10,
    'MRR@10': r.test.mrr10,
    'coverage@10': r.test.coverage10,
    'novelty (bits)': r.test.novelty,
  }));
}

/** recall@M against M, one line per retriever (the same M values for all). */
export function recallCurveFigure(
  curves: Array<{ name: string; recall: RecallAtM }>,
  opts: { title?: string } = {},
): Figure {
  return lineFigure(
    curves.map((c) => {
      const ms = Object.keys(c.recall.recall)
        .map(Number)
        .sort((a, b) => a - b);
      return { name: c.name, x: ms, y: ms.map((m) => c.recall.recall[m]) };
    }),
    {
      title: opts.title ?? 'Recall@M: the target among the top M (test)',
      xTitle: 'M (candidates handed to the ranker)',
      yTitle: 'recall@M',
      layout: { yaxis: { rangemode: 'tozero', title: { text: 'recall@M' } } },
    },
  );
}

/** A re-rank curve as tradeoffFigure points: HR@k against intra-list diversity, or against catalogue coverage. */
export function rerankTradeoffPoints(points: RerankPoint[], x: 'diversity' | 'coverage'): TradeoffPoint[] {
  return points.map((p) => ({
    lambda: p.lambda,
    diversity: x === 'coverage' ? p.coverage : p.diversity,
    accuracy: p.hr,
  }));
}

/** Top-k lists side by side: one row per rank, one column of titles per list (shorter lists leave blanks). */
export function sideBySideLists(
  lists: Array<{ name: string; items: ArrayLike<number> }>,
  titles: ArrayLike<string>,
): Record<string, string | number>[] {
  const names = new Set<string>();
  for (const l of lists) {
    if (names.has(l.name)) throw new ConfigError(`sideBySideLists: two lists are named "${l.name}"`);
    names.add(l.name);
  }
  const k = Math.max(0, ...lists.map((l) => l.items.length));
  return Array.from({ length: k }, (_, r) => {
    const row: Record<string, string | number> = { rank: r + 1 };
    for (const l of lists) {
      const i = r < l.items.length ? l.items[r] : -1;
      if (i >= titles.length)
        throw new ConfigError(`sideBySideLists: list "${l.name}" has item ${i}, outside the ${titles.length} titles`);
      row[l.name] = i >= 0 ? titles[i] : '';
    }
    return row;
  });
}

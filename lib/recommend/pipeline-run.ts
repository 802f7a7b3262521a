/**
 * The retrieval -> BST ranking pipeline in a run folder: `bst train-recommender --retriever sasrec` (or
 * `two-tower`) trains the SASRec-style retriever (lib/seqrec) or the two-tower model (lib/retrieval) on the run's
 * leave-one-out training part, the BST ranker on its hard negatives (rank-train.ts), picks M and the blend
 * weight on validation, and saves
 *
 *   <run>/retriever/seqrec.json, seqrec.bin   the SASRec retriever (lib/seqrec/io.ts), or
 *   <run>/retriever/twotower.json, .bin       the two-tower retriever (lib/retrieval/io.ts)
 *   <run>/retriever/pipeline.json             { format, retriever, m, weight, val: validation metrics of the choice }
 *
 * next to the BST's checkpoints/ and metrics.json; `bst recommend` loads both (loadRunPipeline).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Dataset, PreparedData } from '../data/index';
import { eventsFromTable, evaluateNextItem, leaveOneOutSplit, NextItemMetrics, NextItemSplit } from '../eval/next-item';
import { BstConfig, BstModel } from '../model/index';
import { hasSeqRec, loadSeqRec, saveSeqRec } from '../seqrec/io';
import { SeqRecConfig, seqRecConfig } from '../seqrec/config';
import { SeqRecModel } from '../seqrec/model';
import { trainSeqRec } from '../seqrec/train';
import { ConfigError, DataError } from '../util/errors';
import { readJson, writeJsonAtomic } from '../util/files';
import { bstCandidateScores, checkLooCompatible, PipelineSetting, pipelineScorer, RankingPipeline } from './pipeline';
import {
  hasTwoTower,
  loadTwoTower,
  retrievalFeatures,
  retrieveMany,
  sasRecRetriever,
  Retriever,
  saveTwoTower,
  trainTwoTower,
  TwoTowerConfig,
  twoTowerConfig,
  TwoTowerModel,
  twoTowerRetriever,
} from '../retrieval/index';
import { HardNegativeOptions, trainRanker, TrainRankerResult } from './rank-train';

/** The format tag of pipeline.json. */
export const PIPELINE_FORMAT = 'bst-lab/pipeline@1';
/** Candidate counts M tried on validation. */
export const PIPELINE_MS: readonly number[] = [50, 100, 200];
/** Blend weights tried on validation (1 = the retriever's own order, see chooseSetting's minGain). */
export const PIPELINE_WEIGHTS: readonly number[] = [0, 0.25, 0.5, 0.75, 1];

/** Options of `chooseSetting`. */
export interface ChooseSettingOptions {
  model: BstModel;
  data: PreparedData;
  split: NextItemSplit;
  retriever: Retriever;
  ms?: readonly number[];
  weights?: readonly number[];
  /**
   * validation NDCG@10 a setting with BST ranking (weight < 1) must gain over the retriever's own order
   * (weight 1) to be chosen (default MIN_RANKING_GAIN)
   */
  minGain?: number;
}

/**
 * Default minimum validation NDCG@10 gain of BST ranking over the retriever alone: about one standard error of
 * NDCG@10 over ml-100k's 943 validation users. On ml-100k the ranking stage did not beat the retriever
 * (results/pipeline.md), so smaller validation differences keep the retriever's order.
 */
export const MIN_RANKING_GAIN = 0.005;

/**
 * The (M, weight) with the best validation NDCG@10 (first best in grid order), with its validation metrics;
 * the retriever's own order (largest M, weight 1) unless a ranked setting beats it by `minGain`.
 */
export function chooseSetting(o: ChooseSettingOptions): { setting: PipelineSetting; val: NextItemMetrics } {
  const ms = o.ms ?? PIPELINE_MS;
  const ws = (o.weights ?? PIPELINE_WEIGHTS).filter((w) => w < 1);
  const minGain = o.minGain ?? MIN_RANKING_GAIN;
  const cases = o.split.val.cases;
  const positions = checkLooCompatible(o.data, o.split, 'val');
  const inputs = cases.map((c) => c.input);
  const items = retrieveMany(
    o.retriever,
    inputs,
    Math.max(...ms),
    inputs,
    cases.map((c) => c.user),
  );
  const cand = { cases, items, ranker: bstCandidateScores({ model: o.model, data: o.data, positions, items }) };
  const ev = (s: PipelineSetting) =>
    evaluateNextItem(pipelineScorer(cand, o.split.numItems, s), cases, {
      numItems: o.split.numItems,
      fit: o.split.val.fit,
    });
  const alone = { setting: { m: Math.max(...ms), weight: 1 }, val: ev({ m: Math.max(...ms), weight: 1 }) };
  let best: { setting: PipelineSetting; val: NextItemMetrics } | undefined;
  for (const m of ms) {
    for (const weight of ws) {
      const val = ev({ m, weight });
      if (!best || val.ndcg10 > best.val.ndcg10) best = { setting: { m, weight }, val };
    }
  }
  return best && best.val.ndcg10 >= alone.val.ndcg10 + minGain ? best : alone;
}

/** Options of `trainRankingPipeline`. */
export interface TrainRankingPipelineOptions {
  dataset: Dataset;
  /** prepared with leave-last-k k=1 (the leave-one-out protocol) */
  data: PreparedData;
  /** BST config (task 'like' is forced) */
  config: Partial<BstConfig>;
  /** which retriever to train (default 'sasrec') */
  retrieverKind?: RetrieverKind;
  /** SASRec retriever config overrides (e.g. maxSeconds, epochs, seed) */
  retriever?: Partial<SeqRecConfig>;
  /**
   * two-tower config overrides (default: TWO_TOWER_PIPELINE_DEFAULTS, then these)
   */
  twoTower?: Partial<TwoTowerConfig>;
  negatives?: Partial<HardNegativeOptions>;
  maxPerUser?: number;
  maxUsers?: number;
  seed?: number;
  checkpointDir?: string;
  log?: ((line: string) => void) | null;
  progress?: boolean;
}

/** What `trainRankingPipeline` returns: the ranker's training result plus the retriever and the chosen setting. */
export interface TrainedPipeline extends TrainRankerResult {
  /** the retriever's model: the SASRec-style one or the two-tower one */
  seqrec?: SeqRecModel;
  twoTower?: TwoTowerModel;
  setting: PipelineSetting;
  /** validation metrics of the chosen setting (lib/eval/next-item) */
  val: NextItemMetrics;
}

/** Train retriever and ranker and choose the setting on validation (see the module comment). */
export async function trainRankingPipeline(o: TrainRankingPipelineOptions): Promise<TrainedPipeline> {
  const split = leaveOneOutSplit(eventsFromTable(o.dataset.ratings));
  checkLooCompatible(o.data, split, 'val'); // throws unless data is the same leave-one-out split
  let retriever: Retriever;
  let models: { seqrec?: SeqRecModel; twoTower?: TwoTowerModel };
  const kind = o.retrieverKind ?? 'sasrec';
  switch (kind) {
    case 'sasrec': {
      const config = seqRecConfig({ maxSeconds: 600, ...(o.retriever ?? {}) });
      const sr = trainSeqRec({
        config,
        numItems: split.numItems,
        fit: split.val.fit,
        val: split.val.cases,
        log: o.log ?? undefined,
      });
      o.log?.(
        `retriever (SASRec-style): ${sr.epochsRun} epochs in ${sr.seconds.toFixed(0)} s, best epoch ${sr.bestEpoch}, val HR@10 ${sr.bestVal?.hr10.toFixed(4)}`,
      );
      retriever = sasRecRetriever(sr.model);
      models = { seqrec: sr.model };
      break;
    }
    case 'two-tower': {
      const config = twoTowerConfig({ ...TWO_TOWER_PIPELINE_DEFAULTS, ...(o.twoTower ?? {}) });
      const features = retrievalFeatures(o.dataset, split.itemIds);
      const tt = trainTwoTower({ config, features, fit: split.val.fit, val: split.val.cases, log: o.log ?? undefined });
      o.log?.(
        `retriever (two-tower): ${tt.epochsRun} epochs in ${tt.seconds.toFixed(0)} s, best epoch ${tt.bestEpoch}, val HR@10 ${tt.bestVal?.val.hr10.toFixed(4)}`,
      );
      retriever = twoTowerRetriever(tt.model);
      models = { twoTower: tt.model };
      break;
    }
    default:
      throw new ConfigError(`retriever kind must be one of ${RETRIEVER_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
  const r = await trainRanker({
    data: o.data,
    retriever,
    config: o.config,
    negatives: o.negatives,
    maxPerUser: o.maxPerUser,
    maxUsers: o.maxUsers,
    seed: o.seed,
    checkpointDir: o.checkpointDir,
    log: o.log,
    progress: o.progress,
  });
  const { setting, val } = chooseSetting({ model: r.model, data: o.data, split, retriever });
  o.log?.(
    `pipeline: validation chose M=${setting.m}, blend weight ${setting.weight} (HR@10 ${val.hr10.toFixed(4)}, NDCG@10 ${val.ndcg10.toFixed(4)})`,
  );
  return { ...r, ...models, setting, val };
}

/** The retrievers a run folder's pipeline can hold. */
export type RetrieverKind = 'sasrec' | 'two-tower';
/** Every RetrieverKind (the CLI's choices). */
export const RETRIEVER_KINDS: readonly RetrieverKind[] = ['sasrec', 'two-tower'];
/** Two-tower settings of the pipeline before the caller's overrides: sequence only, 600 s budget. */
export const TWO_TOWER_PIPELINE_DEFAULTS: Partial<TwoTowerConfig> = { userFeatures: false, maxSeconds: 600 };

/** Contents of pipeline.json. */
export interface PipelineManifest {
  format: string;
  retriever: string;
  m: number;
  weight: number;
  val?: NextItemMetrics;
}

/** Save the retriever (the SASRec-style model or the two-tower one) and the chosen setting into `<runDir>/retriever/`. */
export function saveRunPipeline(
  runDir: string,
  p: { seqrec?: SeqRecModel; twoTower?: TwoTowerModel; setting: PipelineSetting; val?: NextItemMetrics },
): void {
  const dir = path.join(runDir, 'retriever');
  if ((p.seqrec === undefined) === (p.twoTower === undefined))
    throw new ConfigError('saveRunPipeline: give exactly one retriever model (seqrec or twoTower)');
  if (p.seqrec) saveSeqRec(p.seqrec, dir);
  else saveTwoTower(p.twoTower!, dir);
  const retriever: RetrieverKind = p.seqrec ? 'sasrec' : 'two-tower';
  const manifest: PipelineManifest = {
    format: PIPELINE_FORMAT,
    retriever,
    m: p.setting.m,
    weight: p.setting.weight,
    val: p.val,
  };
  writeJsonAtomic(path.join(dir, 'pipeline.json'), manifest);
}

/** The run folder's pipeline (retriever + chosen setting), or undefined when the run has none. */
export function loadRunPipeline(runDir: string, numItems: number): RankingPipeline | undefined {
  const dir = path.join(runDir, 'retriever');
  const file = path.join(dir, 'pipeline.json');
  if (!fs.existsSync(file) || !(hasSeqRec(dir) || hasTwoTower(dir))) return undefined;
  const m = readJson<PipelineManifest>(file);
  if (m.format !== PIPELINE_FORMAT)
    throw new DataError(`format is ${JSON.stringify(m.format)}, expected ${PIPELINE_FORMAT}`, file);
  if (!(RETRIEVER_KINDS as readonly string[]).includes(m.retriever))
    throw new DataError(
      `retriever ${JSON.stringify(m.retriever)} is not one this version loads (${RETRIEVER_KINDS.join(', ')})`,
      file,
    );
  if (!(Number.isInteger(m.m) && m.m >= 1) || !(m.weight >= 0 && m.weight <= 1))
    throw new ConfigError(`${file}: m ${m.m} or weight ${m.weight} is out of range`);
  let loaded: { retriever: Retriever; numItems: number; file: string };
  if (m.retriever === 'sasrec') {
    const s = loadSeqRec(dir).model;
    loaded = { retriever: sasRecRetriever(s), numItems: s.numItems, file: 'seqrec.json' };
  } else {
    const t = loadTwoTower(dir).model;
    loaded = { retriever: twoTowerRetriever(t), numItems: t.numItems, file: 'twotower.json' };
  }
  if (loaded.numItems !== numItems) {
    loaded.retriever.dispose?.();
    throw new DataError(
      `the retriever knows ${loaded.numItems - 1} movies, the ranker ${numItems - 1}`,
      path.join(dir, loaded.file),
    );
  }
  return { retriever: loaded.retriever, setting: { m: m.m, weight: m.weight } };
}

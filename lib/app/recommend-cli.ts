/**
 * `bst recommend --model runs/latest --user 42 --k 10`: top-k unrated movies for a user from a run folder
 * written by `bst train` or `bst train-recommender`. Registered by lib/app/cli.ts (`COMMANDS.recommend =
 * recommendCommand`).
 *
 * `bst train-recommender --dataset ml-100k --out runs/like --negatives 4 --epochs 2`: trains the like
 * (click) head with sampled negatives and writes a run folder (checkpoints/best + metrics.json) that
 * `bst recommend --model` loads. Registered by lib/app/cli.ts as `COMMANDS['train-recommender'] =
 * trainRecommenderCommand`.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../kernels/backend';
import { Dataset, ensureDataset, loadMovieLens, releaseSpec, resolveDataDir } from '../data/index';
import { DEFAULT_SPLIT, loadRun, prepareForRun, RunMetrics, SplitOptions, versions } from './experiment';
import { BstConfig, evaluate, parseOverrides, resolveConfig } from '../model/index';
import { FlagSpec, FlagValues, UsageError } from '../util/args';
import { writeJsonAtomic } from '../util/files';
import { prepareRunFolder } from './run-folder';
import { movieCatalog } from '../recommend/catalog';
import { formatRecommendations, recommend } from '../recommend/recommend';
import {
  DEFAULT_POOL,
  DEFAULT_RETRIEVAL,
  ExactEngine,
  RETRIEVAL_KINDS,
  RetrievalKind,
  ScoringMode,
} from '../recommend/two-stage';
import { likeBatches, trainItemsByUser, trainRecommender } from '../recommend/train';
import { loadRunPipeline, RetrieverKind, saveRunPipeline, trainRankingPipeline } from '../recommend/pipeline-run';

const FLAGS: Record<string, FlagSpec> = {
  model: {
    type: 'string',
    help: 'a run folder written by `bst train` (metrics.json + checkpoints/best)',
    required: true,
  },
  user: { type: 'int', help: 'MovieLens user id', required: true },
  k: { type: 'int', help: 'number of movies', default: 10 },
  diversity: {
    type: 'number',
    help: 'MMR re-ranking weight of relevance in [0, 1]; 1 = plain top-k, 0.7 = some genre diversity',
    default: 1,
  },
  explain: { type: 'int', help: 'history ratings named per movie ("because you rated ..."); 0 = none', default: 2 },
  'cold-start': {
    type: 'boolean',
    help: 'unknown user: recommend popular movies in the genres of --history instead of failing',
    default: false,
  },
  history: { type: 'string', help: 'cold start: comma-separated movie ids the new user liked' },
  mode: {
    type: 'string',
    help: 'auto: pipeline when the run holds a retriever (bst train-recommender --retriever sasrec), else exact; pipeline: retrieval -> BST ranking; exact: the model scores every unrated movie; two-stage: a cheap retrieval picks --pool movies, the model re-ranks them (faster, approximate)',
    default: 'auto',
    choices: ['auto', 'pipeline', 'exact', 'two-stage'],
  },
  m: { type: 'int', help: "pipeline: movies the retriever hands to the model; default the run's validation choice" },
  blend: {
    type: 'number',
    help: "pipeline: weight of the retrieval rank in [0, 1] (0 = BST order); default the run's validation choice",
  },
  pool: { type: 'int', help: 'two-stage: movies the model re-ranks', default: DEFAULT_POOL },
  retrieval: {
    type: 'string',
    help: 'two-stage: first-stage scorer',
    default: DEFAULT_RETRIEVAL,
    choices: RETRIEVAL_KINDS,
  },
  engine: {
    type: 'string',
    help: 'how the model computes its scores (same scores): shared-history (history work once per user; one-block models) or forward (plain network per candidate)',
    default: 'shared-history',
    choices: ['shared-history', 'forward'],
  },
  json: { type: 'boolean', help: 'print JSON instead of a table', default: false },
  dataset: { type: 'string', help: "MovieLens release; default the run's" },
  'data-dir': { type: 'string', help: 'folder holding one folder per release; default $BST_DATA_DIR or data/' },
  backend: { type: 'string', help: 'tfjs backend: auto, node-gpu, node, wasm, cpu; default $BST_BACKEND or auto' },
};

function movieIds(text: string | undefined): number[] {
  if (!text) return [];
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const v = Number(s);
      if (!Number.isInteger(v)) throw new UsageError(`--history: ${JSON.stringify(s)} is not a movie id`);
      return v;
    });
}

async function run(f: FlagValues): Promise<void> {
  const k = Number(f.k);
  if (!(k >= 1)) throw new UsageError(`--k ${k}: expected an integer >= 1`);
  const lambda = Number(f.diversity);
  if (!(lambda >= 0 && lambda <= 1)) throw new UsageError(`--diversity ${lambda}: expected a number in [0, 1]`);
  await initBackend({ choice: f.backend as string | undefined });
  const { model, data, dataset } = await loadRun(String(f.model), {
    dataset: f.dataset as string | undefined,
    dataDir: f.dataDir as string | undefined,
  });
  const pipeline =
    f.mode === 'auto' || f.mode === 'pipeline'
      ? loadRunPipeline(path.resolve(String(f.model)), data.sizes.numItems)
      : undefined;
  if (f.mode === 'pipeline' && !pipeline)
    throw new UsageError(
      `--mode pipeline: ${f.model} holds no retriever (train one with \`bst train-recommender --retriever sasrec\`)`,
    );
  if (pipeline && f.m !== undefined) pipeline.setting.m = Number(f.m);
  if (pipeline && f.blend !== undefined) pipeline.setting.weight = Number(f.blend);
  const result = recommend({
    pipeline,
    model,
    data,
    catalog: movieCatalog(dataset, data),
    userId: Number(f.user),
    k,
    diversity: lambda < 1 ? { lambda } : undefined,
    explain: Number(f.explain),
    fallback: f.coldStart ? 'popular' : 'error',
    history: movieIds(f.history as string | undefined),
    mode: (f.mode === 'auto' || f.mode === 'pipeline' ? 'exact' : f.mode) as ScoringMode,
    engine: f.engine as ExactEngine,
    twoStage: { pool: Number(f.pool), retrieval: f.retrieval as RetrievalKind },
  });
  console.log(f.json ? JSON.stringify(result, null, 2) : formatRecommendations(result));
}

/** The `recommend` command (summary, flags, run) for lib/app/cli.ts's registerCommand. */
export const recommendCommand = {
  summary: 'top-k unrated movies for a user from a trained run, with title, year, genres, score and why',
  flags: FLAGS,
  run,
};

const TRAIN_FLAGS: Record<string, FlagSpec> = {
  dataset: { type: 'string', help: 'MovieLens release; default $BST_DATASET or ml-1m' },
  'data-dir': { type: 'string', help: 'folder holding one folder per release; default $BST_DATA_DIR or data/' },
  backend: { type: 'string', help: 'tfjs backend: auto, node-gpu, node, wasm, cpu; default $BST_BACKEND or auto' },
  out: {
    type: 'string',
    help: 'output run folder (checkpoints/, metrics.json), loadable by `bst recommend --model`',
    default: 'runs/recommender',
  },
  overwrite: {
    type: 'boolean',
    help: 'replace the run already in --out (its metrics.json and checkpoints/)',
    default: false,
  },
  task: {
    type: 'string',
    help: 'like: the click/like head with sampled negatives; rating: the rating head',
    default: 'like',
    choices: ['like', 'rating'],
  },
  negatives: { type: 'int', help: 'like head: sampled unrated movies per positive', default: 4 },
  epochs: { type: 'int', help: 'maximum epochs (early stopping on the validation loss); default from the config' },
  'seq-len': { type: 'int', help: 'sequence length L (history L-1 + target); default from the config' },
  set: { type: 'string', help: 'config overrides, e.g. "embedDim=32,numHeads=2,mlpUnits=512/256"' },
  tuned: {
    type: 'boolean',
    help: 'start from lib/model/tuned-config.json (then --set, --seq-len, --epochs)',
    default: true,
  },
  // 1, not the rating commands' 5: ranking is measured leave-one-out (each user's last movie), as in SASRec and lib/eval/next-item
  k: {
    type: 'int',
    help: 'leave-last-k: ratings per user held out for test and for validation (default 1: the leave-one-out ranking protocol; the rating commands use 5)',
    default: DEFAULT_SPLIT.k,
  },
  seed: { type: 'int', help: 'seed of the split, negatives, batch order and weights', default: DEFAULT_SPLIT.seed },
  'max-users': { type: 'int', help: 'train on the first N users only (quick runs); default all' },
  progress: { type: 'boolean', help: 'show a progress bar', default: true },
  retriever: {
    type: 'string',
    help: 'sasrec: also train a SASRec-style retriever and the BST as its ranking stage (hard negatives from the retriever; `bst recommend` then runs retrieval -> BST ranking); two-tower: the same with the two-tower retriever (lib/retrieval, sequence only); none: the BST alone. Default sasrec with --task like --k 1, else none',
    choices: ['none', 'sasrec', 'two-tower'],
  },
  'hard-negatives': {
    type: 'int',
    help: "--retriever: negatives per positive drawn from the retriever's top --hard-pool (plus --negatives uniform ones)",
    default: 4,
  },
  'hard-pool': {
    type: 'int',
    help: '--retriever: retriever candidates per training target to draw hard negatives from',
    default: 100,
  },
  'retriever-seconds': {
    type: 'int',
    help: '--retriever: training budget of the retriever in seconds (early stopping on validation NDCG@10 otherwise)',
    default: 600,
  },
  'retriever-epochs': { type: 'int', help: '--retriever: maximum retriever epochs; default its config (200)' },
};

/** The tuned config file's overrides (lib/model/tuned-config.json), or {} when it is absent. */
function tunedConfig(): Partial<BstConfig> {
  const file = path.join(__dirname, '..', 'model', 'tuned-config.json');
  if (!fs.existsSync(file)) return {};
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { config: Partial<BstConfig> }).config;
}

async function datasetOf(f: FlagValues): Promise<Dataset> {
  const release = releaseSpec(String(f.dataset ?? process.env.BST_DATASET ?? 'ml-1m')).name;
  const dataDir = f.dataDir ? path.resolve(String(f.dataDir)) : resolveDataDir();
  return loadMovieLens({ dir: await ensureDataset({ release, dataDir }), release, log: (l) => console.error(l) });
}

async function runTrain(f: FlagValues): Promise<void> {
  const negatives = Number(f.negatives);
  if (!(negatives >= 0)) throw new UsageError(`--negatives ${negatives}: expected an integer >= 0`);
  if (f.task === 'like' && negatives === 0)
    throw new UsageError('--negatives 0: the like head needs sampled negatives (every positive is liked = 1)');
  const config: Partial<BstConfig> = {
    ...(f.tuned ? tunedConfig() : {}),
    ...(f.set ? parseOverrides(String(f.set)) : {}),
    task: f.task as BstConfig['task'],
  };
  if (f.seqLen !== undefined) config.seqLen = Number(f.seqLen);
  if (f.epochs !== undefined) config.epochs = Number(f.epochs);
  config.seed = Number(f.seed);
  const resolved = resolveConfig(config); // validate before loading data
  const retrieverKind = String(f.retriever ?? (f.task === 'like' && Number(f.k) === 1 ? 'sasrec' : 'none'));
  const withRetriever = retrieverKind !== 'none';
  if (withRetriever && (f.task !== 'like' || Number(f.k) !== 1))
    throw new UsageError(
      `--retriever ${f.retriever}: needs --task like and --k 1 (the leave-one-out protocol), got --task ${f.task} --k ${f.k}`,
    );
  const out = path.resolve(String(f.out));
  prepareRunFolder(out, f.overwrite ? 'overwrite' : 'refuse'); // a writable folder holding no other run, before any work
  await initBackend({ choice: f.backend as string | undefined });
  const dataset = await datasetOf(f);
  const split: SplitOptions = { ...DEFAULT_SPLIT, k: Number(f.k), seed: Number(f.seed) };
  const data = prepareForRun(dataset, split, resolved.seqLen, { log: null });
  const maxUsers = f.maxUsers === undefined ? undefined : Number(f.maxUsers);
  const pipe = withRetriever
    ? await trainRankingPipeline({
        dataset,
        data,
        config: resolved,
        maxUsers,
        seed: resolved.seed,
        checkpointDir: path.join(out, 'checkpoints'),
        log: (s) => console.log(s),
        progress: Boolean(f.progress),
        negatives: { hard: Number(f.hardNegatives), uniform: negatives, pool: Number(f.hardPool) },
        retrieverKind: retrieverKind as RetrieverKind,
        retriever: {
          maxSeconds: Number(f.retrieverSeconds),
          seed: resolved.seed,
          ...(f.retrieverEpochs !== undefined ? { epochs: Number(f.retrieverEpochs) } : {}),
        },
        twoTower: {
          maxSeconds: Number(f.retrieverSeconds),
          seed: resolved.seed,
          ...(f.retrieverEpochs !== undefined ? { epochs: Number(f.retrieverEpochs) } : {}),
        },
      })
    : undefined;
  const r =
    pipe ??
    (await trainRecommender({
      data,
      config: resolved,
      negatives,
      maxUsers,
      seed: resolved.seed,
      checkpointDir: path.join(out, 'checkpoints'),
      log: (s) => console.log(s),
      progress: Boolean(f.progress),
    }));
  if (pipe) saveRunPipeline(out, pipe);
  // val/test: the like head on each held-out target plus `negatives` seeded unrated movies (AUC, log loss);
  // the rating head on the ordinary targets (MAE, RMSE)
  const exclude = trainItemsByUser(data);
  const scored = (which: 'val' | 'test') => {
    const positions = data
      .positions(which)
      .filter((p) => maxUsers === undefined || data.interactions.user[p] <= maxUsers);
    return r.model.config.task === 'like'
      ? evaluate(
          r.model,
          likeBatches(data, { positions, negatives, positivesPerBatch: 1024, seed: which === 'val' ? 1 : 2, exclude }),
        )
      : evaluate(
          r.model,
          (function* () {
            for (let i = 0; i < positions.length; i += 1024) yield data.gather(positions.subarray(i, i + 1024));
          })(),
        );
  };
  const fit = r.training.history;
  const fitSeconds = fit.reduce((a, h) => a + h.seconds, 0);
  const metrics: RunMetrics & { recommender: { task: string; negatives: number; maxUsers: number | null } } = {
    dataset: dataset.release,
    split,
    leaky: data.counts.leaky,
    counts: data.counts,
    config: r.model.config,
    bestEpoch: r.training.bestEpoch + 1,
    epochsRun: fit.length,
    stoppedEarly: r.training.stoppedEarly,
    trainSeconds: r.seconds,
    trainSamplesPerSec: fitSeconds > 0 ? fit.reduce((a, h) => a + h.samples, 0) / fitSeconds : 0,
    val: scored('val'),
    test: scored('test'),
    backend: tf.getBackend(),
    versions: versions(),
    finishedAt: new Date().toISOString(),
    recommender: {
      task: r.model.config.task,
      negatives: r.model.config.task === 'like' ? negatives : 0,
      maxUsers: maxUsers ?? null,
    },
  };
  if (pipe)
    Object.assign(metrics.recommender, {
      pipeline: {
        retriever: retrieverKind,
        hardNegatives: Number(f.hardNegatives),
        hardPool: Number(f.hardPool),
        ...pipe.setting,
        val: pipe.val,
      },
    });
  writeJsonAtomic(path.join(out, 'metrics.json'), metrics);
  const t = metrics.test;
  console.log(
    r.model.config.task === 'like'
      ? `like head, ${negatives} sampled negatives: test AUC ${t.auc?.toFixed(4)} log loss ${t.logLoss?.toFixed(4)} (n=${t.n}); best epoch ${metrics.bestEpoch}; wrote ${out}`
      : `rating head: test MAE ${t.mae?.toFixed(4)} RMSE ${t.rmse?.toFixed(4)} (n=${t.n}); best epoch ${metrics.bestEpoch}; wrote ${out}`,
  );
}

/** The `train-recommender` command (summary, flags, run) for lib/app/cli.ts's command table. */
export const trainRecommenderCommand = {
  summary:
    'train the like (click) head with sampled negatives for recommendation; writes a run folder for `bst recommend --model`',
  flags: TRAIN_FLAGS,
  run: runTrain,
};

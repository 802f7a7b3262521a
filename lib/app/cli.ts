/**
 * The `bst` command line: `bst <command> [--flags]`. Commands: train, evaluate, predict (see `bst help`).
 * Run through npm (`npm run bst -- train --dataset ml-100k`) or the `bst` bin (scripts/bst.js).
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../kernels/backend';
import { Dataset, ensureDataset, generateSynthetic, loadMovieLens, releaseSpec, resolveDataDir } from '../data/index';
import {
  BstConfig,
  evaluate,
  evaluatePredictions,
  labelsOf,
  LOSS_KINDS,
  LossKind,
  meanPredictions,
  parseOverrides,
  predict,
  resolveConfig,
} from '../model/index';
import { BENCHMARK_PROTOCOLS, BenchmarkProtocol, runBenchmark, tunedBstConfig } from './benchmark';
import { DEFAULT_TRIAL_SEEDS, DEFAULT_TRIALS, tune } from './tune';
import { recommendCommand, trainRecommenderCommand } from './recommend-cli';
import { serveCommand } from './serve/cli';
import { exportWebCommand } from './serve/export';
import { DEFAULT_SPLIT, loadRun, runExperiment, SplitOptions } from './experiment';
import { parseWorkers } from '../train/parallel/env';
import { prepareRunFolder, resumeConflicts } from './run-folder';
import { FlagSpec, FlagValues, flagUsage, givenFlags, parseFlags, UsageError } from '../util/args';
import { describeError, EXIT, verboseFromEnv } from '../util/error-message';
import { checkWritableDir, checkWritableFile, writeJsonAtomic } from '../util/files';
import { DEFAULT_TWO_TOWER_CONFIG, trainAndExportVectors, twoTowerConfig } from '../retrieval/index';

const DATA_FLAGS: Record<string, FlagSpec> = {
  dataset: {
    type: 'string',
    help: 'MovieLens release (ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m, ml-latest, ml-latest-small); default $BST_DATASET or ml-1m',
  },
  'data-dir': { type: 'string', help: 'folder holding one folder per release; default $BST_DATA_DIR or data/' },
  backend: { type: 'string', help: 'tfjs backend: auto, node-gpu, node, wasm, cpu; default $BST_BACKEND or auto' },
};

/** leave-last-k's k unless --k says otherwise: the same for train, benchmark and tune (evaluate reads the run's). */
const DEFAULT_K = 5;

const SPLIT_FLAGS: Record<string, FlagSpec> = {
  protocol: {
    type: 'string',
    help: 'leave-last-k (leak-free) or legacy-random-windows (leaky; for comparison only)',
    default: DEFAULT_SPLIT.protocol,
    choices: ['leave-last-k', 'legacy-random-windows'],
  },
  k: { type: 'int', help: 'leave-last-k: ratings per user held out for test and for validation', default: DEFAULT_K },
  step: { type: 'int', help: 'legacy-random-windows: window step', default: DEFAULT_SPLIT.step },
  seed: { type: 'int', help: 'seed of the split, batch order, weights and dropout', default: DEFAULT_SPLIT.seed },
};

const TRAIN_FLAGS: Record<string, FlagSpec> = {
  ...DATA_FLAGS,
  ...SPLIT_FLAGS,
  'seq-len': { type: 'int', help: 'sequence length L (history L-1 + target); default from the config' },
  epochs: { type: 'int', help: 'maximum epochs; default from the config' },
  'batch-size': { type: 'int', help: 'training batch size; default from the config' },
  set: { type: 'string', help: 'config overrides, e.g. "embedDim=32,numHeads=4,mlpUnits=256/128"' },
  loss: {
    type: 'string',
    help: 'training objective (metrics stay MAE/RMSE); default from the config (mse)',
    choices: LOSS_KINDS,
  },
  base: {
    type: 'string',
    help: "starting config: tuned (lib/model/tuned-config.json) or paper (the paper's defaults)",
    default: 'tuned',
    choices: ['tuned', 'paper'],
  },
  out: { type: 'string', help: 'output folder (checkpoints, history.json, metrics.json)', default: 'runs/latest' },
  resume: {
    type: 'boolean',
    help: "continue the run in --out from its checkpoints/last, with the run's own dataset, split and config (run.json); only --epochs may change",
    default: false,
  },
  overwrite: {
    type: 'boolean',
    help: 'replace the run already in --out (its run.json, metrics.json and checkpoints/)',
    default: false,
  },
  progress: { type: 'boolean', help: 'show a progress bar', default: true },
  workers: {
    type: 'string',
    help: 'data-parallel gradient workers incl. the main thread: N or auto (= cores); default $BST_WORKERS or 1',
  },
};

const EVAL_FLAGS: Record<string, FlagSpec> = {
  ...DATA_FLAGS,
  model: {
    type: 'string',
    help: 'a run folder written by `bst train`, or several comma-separated (scores their ensemble: the mean of their predictions)',
    required: true,
  },
  split: { type: 'string', help: 'which split to score', default: 'test', choices: ['val', 'test'] },
  out: { type: 'string', help: 'write the metrics as JSON here too' },
};

const PREDICT_FLAGS: Record<string, FlagSpec> = {
  ...DATA_FLAGS,
  model: { type: 'string', help: 'a run folder written by `bst train`', required: true },
  user: { type: 'int', help: 'MovieLens user id', required: true },
  movies: { type: 'string', help: 'comma-separated MovieLens movie ids to score', required: true },
};

const BENCH_FLAGS: Record<string, FlagSpec> = {
  ...DATA_FLAGS,
  seeds: { type: 'string', help: 'comma-separated model seeds (the split stays fixed)', default: '1,2,3' },
  protocols: {
    type: 'string',
    help: 'comma-separated: leave-last-k (k=--k, headline) and/or legacy-random-windows (L=4, step 2; leaky)',
    default: 'leave-last-k,legacy-random-windows',
  },
  k: { type: 'int', help: 'leave-last-k: ratings per user held out for test and for validation', default: DEFAULT_K },
  epochs: { type: 'int', help: 'maximum BST epochs; default from the tuned config' },
  losses: {
    type: 'string',
    help: 'comma-separated training objectives (mse, mae, huber): one BST row and one seed-ensemble row each (the README table: mse,mae)',
    default: 'mse,mae',
  },
  set: { type: 'string', help: 'BST config overrides on top of lib/model/tuned-config.json' },
  out: {
    type: 'string',
    help: "output folder: benchmark.json, benchmark.md, runs/ (the README's committed table: --out results/benchmark, what `npm run benchmark` passes)",
    default: 'runs/benchmark',
  },
  progress: { type: 'boolean', help: 'show a progress bar while the BST trains', default: false },
};

const TUNE_FLAGS: Record<string, FlagSpec> = {
  ...DATA_FLAGS,
  trials: { type: 'int', help: 'configurations to try', default: DEFAULT_TRIALS },
  seed: { type: 'int', help: 'seed of the search (which configurations are drawn)', default: 1 },
  'trial-seeds': {
    type: 'string',
    help: 'model seeds each trial is trained with; its score is their mean',
    default: DEFAULT_TRIAL_SEEDS.join(','),
  },
  k: {
    type: 'int',
    help: 'leave-last-k: ratings per user held out (only train and validation are read)',
    default: DEFAULT_K,
  },
  'seq-len': { type: 'int', help: 'sequence length of every trial', default: 10 },
  epochs: { type: 'int', help: 'maximum epochs per trial (early stopping on validation, patience 2)', default: 6 },
  set: { type: 'string', help: 'fixed config overrides for every trial, e.g. "ffnMult=1"' },
  out: {
    type: 'string',
    help: 'output folder (trials.json, tuned-config.json: the winner); the committed search: --out results/tune',
    default: 'runs/tune',
  },
  'write-default': {
    type: 'boolean',
    help: 'also replace lib/model/tuned-config.json with the winner (refused when that file records a better val RMSE on the same dataset, protocol and k)',
    default: false,
  },
};

const SYNTH_FLAGS: Record<string, FlagSpec> = {
  out: {
    type: 'string',
    help: 'release folder to write, e.g. data/synthetic/ml-1m (then --data-dir data/synthetic --dataset ml-1m)',
    required: true,
  },
  ratings: { type: 'int', help: 'number of ratings', required: true },
  users: { type: 'int', help: "number of users; default ratings / 165 (ml-1m's ratio)" },
  movies: { type: 'int', help: 'number of movies; default 4 * sqrt(ratings), between 20 and 60,000' },
  format: {
    type: 'string',
    help: 'ml-1m (ratings.dat, movies.dat, users.dat) or csv (ml-20m style)',
    default: 'ml-1m',
    choices: ['ml-1m', 'csv'],
  },
  seed: { type: 'int', help: 'the same seed and flags write the same bytes', default: 1 },
  echo: {
    type: 'number',
    help: 'planted order signal: chance that a rating repeats the one --echo-lag steps earlier (0 = none)',
    default: 0,
  },
  'echo-lag': { type: 'int', help: 'how many steps back --echo looks', default: 3 },
};

interface Command {
  summary: string;
  flags: Record<string, FlagSpec>;
  /** `given`: the flags the command line named (not filled from defaults). */
  run: (f: FlagValues, given?: Set<string>) => Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  train: {
    summary: 'train a BST; writes checkpoints, history.json and metrics.json to --out',
    flags: TRAIN_FLAGS,
    run: cmdTrain,
  },
  evaluate: { summary: 'score a trained model on its validation or test split', flags: EVAL_FLAGS, run: cmdEvaluate },
  predict: {
    summary: "predict a user's ratings of given movies from their latest history",
    flags: PREDICT_FLAGS,
    run: cmdPredict,
  },
  tune: {
    summary: 'random search over the BST knobs on the validation split; writes trials.json and the winner to --out',
    flags: TUNE_FLAGS,
    run: cmdTune,
  },
  benchmark: {
    summary: 'baselines and the BST (several seeds) on the same splits; writes benchmark.json and benchmark.md',
    flags: BENCH_FLAGS,
    run: cmdBenchmark,
  },
};

COMMANDS.synth = {
  summary: 'write a seeded synthetic MovieLens release of any size (optionally with a planted order signal)',
  flags: SYNTH_FLAGS,
  run: cmdSynth,
};
COMMANDS.recommend = recommendCommand;
COMMANDS['train-recommender'] = trainRecommenderCommand;
COMMANDS.serve = serveCommand;
COMMANDS['export-web'] = exportWebCommand;

/** Register another command (for scripts that extend the CLI). */
export function registerCommand(name: string, command: Command): void {
  COMMANDS[name] = command;
}

/** The usage text of one command, or of all. */
export function usage(command?: string): string {
  if (command && COMMANDS[command]) {
    return `usage: bst ${command} [flags]\n${COMMANDS[command].summary}\n\n${flagUsage(COMMANDS[command].flags)}`;
  }
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length)) + 2;
  return (
    'usage: bst <command> [flags]\n\ncommands:\n' +
    Object.entries(COMMANDS)
      .map(([k, c]) => `  ${k.padEnd(w)}${c.summary}`)
      .join('\n') +
    '\n\n`bst <command> --help` lists its flags. --verbose (or BST_VERBOSE=1) prints stack traces of errors.\n' +
    'exit codes: 0 ok, 1 the command failed, 2 bad command line, 70 internal error'
  );
}

/**
 * Entry point: returns the process exit code (0 ok, 1 failure, 2 bad command line, 70 internal error; see
 * EXIT). Every error ends here: one line `bst <command>: <message>` on stderr, the stack trace only with
 * --verbose (any command) or BST_VERBOSE=1.
 */
export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose') || verboseFromEnv();
  const [name, ...rest] = argv.filter((a) => a !== '--verbose');
  let flags: FlagValues | undefined;
  try {
    if (!name || name === 'help' || name === '--help' || name === '-h') {
      console.log(usage(rest[0]));
      return EXIT.ok;
    }
    const command = COMMANDS[name];
    if (!command) {
      console.error(`bst: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
      return EXIT.usage;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(usage(name));
      return EXIT.ok;
    }
    flags = parseFlags(rest, command.flags);
    await command.run(flags, givenFlags(rest, command.flags));
    return EXIT.ok;
  } catch (e) {
    const r = describeError(e);
    // a command line that cannot be parsed gets the usage text; a usage error found later gets only its line
    console.error(
      `bst ${name}: ${r.message}${r.code === EXIT.usage && flags === undefined ? `\n\n${usage(name)}` : ''}`,
    );
    if (verbose && e instanceof Error && e.stack) console.error(e.stack);
    return r.code;
  }
}

/** Load the dataset named by flags (or the environment), downloading it when missing. */
export async function datasetFromFlags(f: FlagValues): Promise<Dataset> {
  const release = releaseSpec(String(f.dataset ?? process.env.BST_DATASET ?? 'ml-1m')).name;
  const dataDir = f.dataDir ? path.resolve(String(f.dataDir)) : resolveDataDir();
  const dir = await ensureDataset({ release, dataDir });
  return loadMovieLens({ dir, release, log: (l) => console.error(l) }); // the load report, on stderr (stdout stays the command's output)
}

/** Config overrides from --set, --seq-len, --epochs, --batch-size, --seed, --loss. */
export function configFromFlags(f: FlagValues): Partial<BstConfig> {
  const c: Partial<BstConfig> = f.set ? parseOverrides(String(f.set)) : {};
  if (f.seqLen !== undefined) c.seqLen = Number(f.seqLen);
  if (f.epochs !== undefined) c.epochs = Number(f.epochs);
  if (f.batchSize !== undefined) c.batchSize = Number(f.batchSize);
  if (f.seed !== undefined) c.seed = Number(f.seed);
  if (f.loss !== undefined) c.loss = f.loss as LossKind;
  return c;
}

function splitFromFlags(f: FlagValues): SplitOptions {
  return {
    protocol: f.protocol as SplitOptions['protocol'],
    k: Number(f.k),
    step: Number(f.step),
    seed: Number(f.seed),
  };
}

async function cmdTrain(f: FlagValues, given: Set<string> = new Set()): Promise<void> {
  if (f.resume && f.overwrite) throw new UsageError('--resume and --overwrite exclude each other');
  const out = path.resolve(String(f.out));
  // before any work: --out is a writable folder, and holds no other run unless --resume / --overwrite
  const recorded = prepareRunFolder<SplitOptions>(out, f.resume ? 'resume' : f.overwrite ? 'overwrite' : 'refuse');
  let split = splitFromFlags(f);
  let config: Partial<BstConfig> = { ...(f.base === 'paper' ? {} : tunedBstConfig()), ...configFromFlags(f) };
  if (recorded) {
    // --resume: the run's own dataset, split and config; flags given on the command line must agree
    const only: FlagValues = {};
    for (const k of given) only[k] = f[k];
    split = { ...recorded.split };
    for (const k of ['protocol', 'k', 'step', 'seed'] as const)
      if (given.has(k)) (split as any)[k] = k === 'protocol' ? String(f[k]) : Number(f[k]);
    config = { ...recorded.config, ...configFromFlags(only) };
    const conflicts = resumeConflicts(recorded, {
      dataset: given.has('dataset') ? releaseSpec(String(f.dataset)).name : recorded.dataset,
      split,
      config: resolveConfig(config),
    });
    if (conflicts.length)
      throw new UsageError(
        `--resume: ${out} was trained with other settings (${conflicts.join('; ')}); drop the contradicting flags (only --epochs may change)`,
      );
    f = {
      ...f,
      dataset: recorded.dataset,
      dataDir: given.has('dataDir') || process.env.BST_DATA_DIR || !recorded.dataDir ? f.dataDir : recorded.dataDir,
    };
  }
  await initBackend({ choice: f.backend as string | undefined });
  const dataset = await datasetFromFlags(f);
  const workers = f.workers !== undefined ? parseWorkers(f.workers as string, '--workers') : undefined; // else runExperiment reads BST_WORKERS
  const r = await runExperiment({
    dataset,
    split,
    config,
    outDir: out,
    resume: Boolean(f.resume),
    existing: f.overwrite ? 'overwrite' : 'refuse',
    progress: Boolean(f.progress),
    workers,
  });
  console.log(
    `${r.metrics.leaky ? 'LEAKY protocol (legacy random windows; not comparable to leak-free numbers): ' : ''}` +
      `test MAE ${r.test.mae?.toFixed(4)} RMSE ${r.test.rmse?.toFixed(4)} (n=${r.test.n}); best epoch ${r.metrics.bestEpoch}; wrote ${path.join(out, 'metrics.json')}`,
  );
}

/** The run folder named by --model, loaded with the dataset flags. */
function loadRunFromFlags(f: FlagValues) {
  return loadRun(String(f.model), {
    dataset: f.dataset as string | undefined,
    dataDir: f.dataDir as string | undefined,
  });
}

async function cmdEvaluate(f: FlagValues): Promise<void> {
  if (f.out) checkWritableFile(path.resolve(String(f.out)));
  await initBackend({ choice: f.backend as string | undefined });
  if (listOf('model', f.model).length > 1) return evaluateEnsemble(f);
  const { recorded, model, data } = await loadRunFromFlags(f);
  const which = f.split as 'val' | 'test';
  const m = evaluate(model, data.batches(which, { batchSize: 1024 }));
  const result = { dataset: recorded.dataset, split: recorded.split, leaky: recorded.leaky, scored: which, metrics: m };
  console.log(JSON.stringify(result, null, 2));
  if (f.out) writeJsonAtomic(path.resolve(String(f.out)), result);
}

/** What fixes a split's targets: leave-last-k ignores the seed (`bst train --seed` sets both seeds). */
function splitKey(s: SplitOptions): string {
  return JSON.stringify({ ...s, seed: s.protocol === 'leave-last-k' ? undefined : s.seed });
}

/** `bst evaluate --model a,b,c`: each run's metrics and their seed ensemble's (the mean of their predictions). */
async function evaluateEnsemble(f: FlagValues): Promise<void> {
  const which = f.split as 'val' | 'test';
  const dirs = listOf('model', f.model);
  const preds: Float32Array[] = [];
  const members: Array<{ model: string; metrics: ReturnType<typeof evaluate> }> = [];
  let first:
    { recorded: Awaited<ReturnType<typeof loadRun>>['recorded']; labels: Float32Array; config: BstConfig } | undefined;
  for (const dir of dirs) {
    const run = await loadRun(dir, {
      dataset: f.dataset as string | undefined,
      dataDir: f.dataDir as string | undefined,
    });
    const p = predict(run.model, run.data.batches(which, { batchSize: 1024 }));
    const labels = new Float32Array(p.length);
    let o = 0;
    for (const b of run.data.batches(which, { batchSize: 1024 })) {
      labels.set(labelsOf(b, run.model.config), o);
      o += b.n;
    }
    if (!first) first = { recorded: run.recorded, labels, config: run.model.config };
    else if (
      run.recorded.dataset !== first.recorded.dataset ||
      splitKey(run.recorded.split) !== splitKey(first.recorded.split) ||
      labels.length !== first.labels.length ||
      labels.some((v, i) => v !== first!.labels[i])
    ) {
      throw new UsageError(
        `--model: ${run.runDir} was trained on ${run.recorded.dataset} ${JSON.stringify(run.recorded.split)}, ` +
          `${dirs[0]} on ${first.recorded.dataset} ${JSON.stringify(first.recorded.split)}: an ensemble needs the same split and targets`,
      );
    }
    preds.push(p);
    members.push({ model: run.runDir, metrics: evaluatePredictions(run.model.config, p, labels) });
    run.model.net.dispose();
  }
  const { recorded, labels, config } = first!;
  const metrics = evaluatePredictions(config, meanPredictions(preds), labels);
  const result = {
    dataset: recorded.dataset,
    split: recorded.split,
    leaky: recorded.leaky,
    scored: which,
    model: `ensemble (mean of ${dirs.length} models)`,
    metrics,
    members,
  };
  console.log(JSON.stringify(result, null, 2));
  if (f.out) writeJsonAtomic(path.resolve(String(f.out)), result);
}

async function cmdPredict(f: FlagValues): Promise<void> {
  await initBackend({ choice: f.backend as string | undefined });
  const { model, data } = await loadRunFromFlags(f);
  const movies = String(f.movies)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const ids = movies.map((m) => {
    const v = Number(m);
    if (!Number.isInteger(v)) throw new UsageError(`--movies: ${JSON.stringify(m)} is not a movie id`);
    return v;
  });
  const { userCandidateSamples } = require('../recommend/index') as typeof import('../recommend/index');
  const samples = userCandidateSamples(data, Number(f.user), ids);
  const scores = predict(model, [samples]);
  ids.forEach((id, i) => console.log(`${id}\t${scores[i].toFixed(4)}`));
}

async function cmdSynth(f: FlagValues): Promise<void> {
  const out = path.resolve(String(f.out));
  checkWritableDir(path.dirname(out));
  const echo = Number(f.echo);
  const r = generateSynthetic({
    dir: out,
    format: f.format as 'ml-1m' | 'csv',
    numRatings: Number(f.ratings),
    numUsers: f.users === undefined ? undefined : Number(f.users),
    numMovies: f.movies === undefined ? undefined : Number(f.movies),
    seed: Number(f.seed),
    echo: echo > 0 ? { probability: echo, lag: Number(f.echoLag) } : undefined,
  });
  console.log(
    `wrote ${r.dir}: ${r.numRatings} ratings, ${r.numUsers} users, ${r.numMovies} movies (${r.format} format)` +
      (echo > 0 ? `; ${echo} of ratings echo the one ${f.echoLag} steps earlier` : ''),
  );
}

function listOf(flag: string, value: unknown): string[] {
  const items = String(value)
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  if (items.length === 0) throw new UsageError(`--${flag} is empty`);
  return items;
}

async function cmdBenchmark(f: FlagValues): Promise<void> {
  await initBackend({ choice: f.backend as string | undefined });
  const seeds = listOf('seeds', f.seeds).map((x) => {
    const v = Number(x);
    if (!Number.isInteger(v)) throw new UsageError(`--seeds: ${JSON.stringify(x)} is not an integer`);
    return v;
  });
  const protocols: BenchmarkProtocol[] = listOf('protocols', f.protocols).map((name) => {
    const p = BENCHMARK_PROTOCOLS.find((q) => q.split.protocol === name);
    if (!p)
      throw new UsageError(
        `--protocols: unknown protocol ${JSON.stringify(name)}; use leave-last-k, legacy-random-windows`,
      );
    return p.split.protocol === 'leave-last-k' ? { ...p, split: { ...p.split, k: Number(f.k) } } : p;
  });
  const out = path.resolve(String(f.out));
  checkWritableDir(out);
  const dataset = await datasetFromFlags(f);
  const config: Partial<BstConfig> = f.set ? parseOverrides(String(f.set)) : {};
  if (f.epochs !== undefined) config.epochs = Number(f.epochs);
  const losses = listOf('losses', f.losses).map((x) => {
    if (!LOSS_KINDS.includes(x as LossKind))
      throw new UsageError(`--losses: unknown objective ${JSON.stringify(x)}; use ${LOSS_KINDS.join(', ')}`);
    return x as LossKind;
  });
  const r = await runBenchmark({
    dataset,
    protocols,
    seeds,
    config,
    losses,
    outDir: out,
    progress: Boolean(f.progress),
  });
  console.log('');
  console.log(fs.readFileSync(path.join(out, 'benchmark.md'), 'utf8'));
  console.log(`wrote ${path.join(out, 'benchmark.json')} and benchmark.md in ${(r.seconds / 60).toFixed(1)} min`);
}

async function cmdTune(f: FlagValues): Promise<void> {
  checkWritableDir(path.resolve(String(f.out)));
  await initBackend({ choice: f.backend as string | undefined });
  const dataset = await datasetFromFlags(f);
  const sorted = await tune({
    dataset,
    split: { protocol: 'leave-last-k', k: Number(f.k), step: 2, seed: 42 },
    base: {
      ...(f.set ? parseOverrides(String(f.set)) : {}),
      seqLen: Number(f.seqLen),
      epochs: Number(f.epochs),
      patience: 2,
    },
    trials: Number(f.trials),
    seed: Number(f.seed),
    trialSeeds: listOf('trial-seeds', f.trialSeeds).map((x) => {
      const v = Number(x);
      if (!Number.isInteger(v)) throw new UsageError(`--trial-seeds: ${JSON.stringify(x)} is not an integer`);
      return v;
    }),
    outDir: path.resolve(String(f.out)),
    writeDefault: Boolean(f.writeDefault),
    command: `npm run bst -- tune --dataset ${dataset.release} --trials ${f.trials} --seed ${f.seed} --trial-seeds ${f.trialSeeds} --k ${f.k} --seq-len ${f.seqLen} --epochs ${f.epochs}${f.set ? ` --set "${f.set}"` : ''}`,
  });
  console.log(`best: val RMSE ${sorted[0]?.valRmse.toFixed(4)} ${JSON.stringify(sorted[0]?.overrides)}`);
}

// ---- retrieve-export: the two-tower retriever (lib/retrieval), trained and exported as vectors ----

const RETRIEVE_EXPORT_FLAGS: Record<string, FlagSpec> = {
  ...DATA_FLAGS,
  out: {
    type: 'string',
    help: 'output folder of the vectors (vectors.json, movies.bin, users.bin; see docs/vectors.md)',
    required: true,
  },
  epochs: {
    type: 'int',
    help: 'maximum epochs (early stopping on validation recall@100)',
    default: DEFAULT_TWO_TOWER_CONFIG.epochs,
  },
  'max-seconds': { type: 'number', help: 'training budget in seconds (0 = none)', default: 0 },
  logq: { type: 'boolean', help: 'log-q sampling-bias correction', default: DEFAULT_TWO_TOWER_CONFIG.logQ },
  seed: { type: 'int', help: 'seed of weights, batch order and dropout', default: 0 },
};

/** `bst retrieve-export`: train the two-tower retriever on the leave-one-out split and export its vectors. */
async function cmdRetrieveExport(f: FlagValues): Promise<void> {
  const out = path.resolve(String(f.out));
  checkWritableDir(out);
  await initBackend({ choice: f.backend as string | undefined });
  const dataset = await datasetFromFlags(f);
  const config = twoTowerConfig({
    epochs: Number(f.epochs),
    maxSeconds: Number(f.maxSeconds),
    logQ: Boolean(f.logq),
    seed: Number(f.seed),
  });
  const r = trainAndExportVectors({ dataset, out, config, log: (l) => console.error(l) });
  const rec = Object.entries(r.testRecall.recall)
    .map(([m, v]) => `recall@${m} ${v.toFixed(3)}`)
    .join(', ');
  console.log(
    `two-tower: best epoch ${r.training.bestEpoch} of ${r.training.epochsRun}; test HR@10 ${r.test.hr10.toFixed(3)}, NDCG@10 ${r.test.ndcg10.toFixed(3)}, ${rec}`,
  );
  console.log(`wrote ${r.movies} movie and ${r.users} user vectors (dim ${config.vectorDim}) to ${out}`);
}

COMMANDS['retrieve-export'] = {
  summary: 'train the two-tower retriever (leave-one-out split) and export user and movie vectors to --out',
  flags: RETRIEVE_EXPORT_FLAGS,
  run: cmdRetrieveExport,
};

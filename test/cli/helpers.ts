/**
 * Shared set-up of the CLI tests: running the `bst` CLI in-process with its console output captured, a temporary
 * folder per test file, small synthetic releases, the tiny configs they train, and the argv of a quick `bst train`.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../lib/app/cli';
import { runExperiment } from '../../lib/app/experiment';
import { generateSynthetic, loadMovieLens } from '../../lib/data';
import { BstConfig } from '../../lib/model';

/** What `captureCli` returns: `run(argv)` gives main's exit code; `out` and `err` hold that run's lines (cleared per run). */
export interface CapturedCli {
  run(argv: string[]): Promise<number>;
  out: string[];
  err: string[];
}

/** An in-process CLI runner whose console.log lines go to `out` and console.error lines to `err`. */
export function captureCli(): CapturedCli {
  const out: string[] = [];
  const err: string[] = [];
  const run = async (argv: string[]): Promise<number> => {
    out.length = 0;
    err.length = 0;
    const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    try {
      return await main(argv);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  };
  return { run, out, err };
}

/** A test file's temporary folder: `dir` is set in beforeAll; the folder and its contents go in afterAll. */
export interface TempFolder {
  dir: string;
}

/** Register beforeAll/afterAll hooks that make a temporary folder named `<prefix>XXXXXX` and remove it afterwards. */
export function useTempFolder(prefix: string): TempFolder {
  const t: TempFolder = { dir: '' };
  beforeAll(() => {
    t.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => fs.rmSync(t.dir, { recursive: true, force: true }));
  return t;
}

/** The `--set` of the CLI tests that train on the synthetic release of useSyntheticRelease. */
export const TINY_SET = 'embedDim=8,posDim=4,ratingDim=4,numHeads=2,mlpUnits=16/8,userDim=4,batchSize=128';

/** A temporary folder holding a synthetic ml-1m release in `<dir>/data/ml-1m`, with the flags that read it. */
export interface SyntheticCliData extends TempFolder {
  /** --dataset ml-1m --data-dir <dir>/data --backend wasm */
  common(): string[];
}

/**
 * useTempFolder plus, in the same beforeAll, a seeded synthetic ml-1m release of 2,000 ratings, 40 users and
 * 80 movies (every user has >= 5 ratings) in `<dir>/data/ml-1m`.
 */
export function useSyntheticRelease(prefix: string): SyntheticCliData {
  const t = useTempFolder(prefix);
  beforeAll(() => {
    generateSynthetic({
      dir: path.join(t.dir, 'data', 'ml-1m'),
      format: 'ml-1m',
      numRatings: 2000,
      numUsers: 40,
      numMovies: 80,
      seed: 3,
    });
  });
  return {
    get dir() {
      return t.dir;
    },
    common: () => ['--dataset', 'ml-1m', '--data-dir', path.join(t.dir, 'data'), '--backend', 'wasm'],
  };
}

/** What trainArgv puts on a `bst train` command line. */
export interface TrainArgvOptions {
  /** the flags naming the data and backend (and e.g. --no-progress) */
  data: string[];
  seqLen: number;
  epochs: number;
  /** the --set config overrides */
  set: string;
  out: string;
  /** further flags (before --out) */
  flags?: string[];
}

/** The argv of a quick `bst train`: data flags, --seq-len, --epochs, --set, the further flags, --out. */
export function trainArgv(o: TrainArgvOptions): string[] {
  const size = ['--seq-len', String(o.seqLen), '--epochs', String(o.epochs), '--set', o.set];
  return ['train', ...o.data, ...size, ...(o.flags ?? []), '--out', o.out];
}

/** The config of the in-process runs on a small release (writeSmallRelease): one epoch, seqLen 3, tiny widths. */
export const SMALL_RUN_CONFIG: Partial<BstConfig> = {
  seqLen: 3,
  epochs: 1,
  embedDim: 4,
  posDim: 2,
  ratingDim: 2,
  numHeads: 2,
  mlpUnits: [8],
  userDim: 2,
  batchSize: 256,
};

/** Write a seeded synthetic ml-1m release of 600 ratings, 20 users and 40 movies into `<dataDir>/ml-1m`. */
export function writeSmallRelease(dataDir: string, seed: number): void {
  generateSynthetic({
    dir: path.join(dataDir, 'ml-1m'),
    format: 'ml-1m',
    numRatings: 600,
    numUsers: 20,
    numMovies: 40,
    seed,
  });
}

/** Train SMALL_RUN_CONFIG in-process on `<dataDir>/ml-1m` into `runDir` (no log, no progress). */
export async function trainSmallRun(dataDir: string, runDir: string): Promise<void> {
  await runExperiment({
    dataset: loadMovieLens({ dir: path.join(dataDir, 'ml-1m'), release: 'ml-1m' }),
    config: SMALL_RUN_CONFIG,
    outDir: runDir,
    log: null,
    progress: false,
  });
}

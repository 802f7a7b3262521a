/** A tiny BST trained once on real MovieLens-100k (one epoch, a few seconds) in a temp run folder, for the service tests. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../lib/kernels/backend';
import { loadMovieLens } from '../../lib/data/index';
import { runExperiment } from '../../lib/app/experiment';

/** Folder holding ml-100k: $BST_DATA_DIR, else ../shared/data beside the checkout. */
export const DATA_DIR =
  process.env.BST_DATA_DIR && fs.existsSync(path.join(process.env.BST_DATA_DIR, 'ml-100k'))
    ? process.env.BST_DATA_DIR
    : path.resolve(__dirname, '../../../shared/data');

/** The tiny config: D = 8 + 2 + 2, one block (the shared-history scorer applies), L = 5. */
export const TINY = {
  seqLen: 5,
  embedDim: 8,
  posDim: 2,
  ratingDim: 2,
  numHeads: 2,
  numBlocks: 1,
  ffnMult: 2,
  mlpUnits: [16, 8],
  userDim: 3,
  demoDim: 2,
  genreDim: 3,
  yearDim: 2,
  batchSize: 2048,
  epochs: 1,
  seed: 7,
};

/** Train the tiny model on ml-100k into a fresh temp run folder; returns the folder. */
export async function trainTinyRun(prefix = 'bst-serve-'): Promise<string> {
  await initBackend({ choice: process.env.BST_BACKEND ?? 'wasm' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dataset = loadMovieLens({ dir: path.join(DATA_DIR, 'ml-100k'), release: 'ml-100k' });
  await runExperiment({ dataset, config: TINY, outDir: path.join(dir, 'run'), log: null, progress: false });
  return path.join(dir, 'run');
}

/**
 * Where data lives: env BST_DATA_DIR (default <project>/data) holds one folder per release; env BST_DATASET
 * (default 'ml-1m') names the release to use.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ReleaseName, releaseSpec } from './formats';
import { Dataset, loadMovieLens } from './load';
import { ensureDataset } from './download';

/** The parent folder of release folders: $BST_DATA_DIR, else <project>/data. */
export function resolveDataDir(env: NodeJS.ProcessEnv = process.env): string {
  // realpath: notebooks reach lib through the symlink notebooks/lib, and data/ lives beside the real lib/
  return path.resolve(env.BST_DATA_DIR || path.join(fs.realpathSync(__dirname), '..', '..', 'data'));
}

/** The release named by $BST_DATASET (default 'ml-1m') and its folder under the data dir. */
export function datasetFromEnv(env: NodeJS.ProcessEnv = process.env): {
  release: ReleaseName;
  dataDir: string;
  dir: string;
} {
  const release = releaseSpec(env.BST_DATASET || 'ml-1m').name;
  const dataDir = resolveDataDir(env);
  return { release, dataDir, dir: path.join(dataDir, release) };
}

/**
 * Load the release named by the environment, downloading it first when missing (unless `download: false`);
 * `log` receives the one-line load summary.
 */
export async function loadFromEnv(
  opts: { download?: boolean; env?: NodeJS.ProcessEnv; log?: ((line: string) => void) | null } = {},
): Promise<Dataset> {
  const { release, dataDir } = datasetFromEnv(opts.env);
  const dir = await ensureDataset({ release, dataDir, download: opts.download });
  return loadMovieLens({ dir, release, log: opts.log });
}

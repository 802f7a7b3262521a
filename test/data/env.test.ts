import * as path from 'path';
import { resolveDataDir, datasetFromEnv, loadFromEnv } from '../../lib/data';
import { DataError, DownloadError } from '../../lib/util/errors';
import { tmpDir } from './fixtures';

test('BST_DATA_DIR and BST_DATASET choose the folder and release', () => {
  expect(resolveDataDir({})).toBe(path.resolve(__dirname, '../../data'));
  expect(datasetFromEnv({ BST_DATA_DIR: '/x/y' })).toEqual({ release: 'ml-1m', dataDir: '/x/y', dir: '/x/y/ml-1m' });
  expect(datasetFromEnv({ BST_DATA_DIR: '/x', BST_DATASET: 'ml-25m' }).dir).toBe('/x/ml-25m');
  expect(() => datasetFromEnv({ BST_DATASET: 'ml-3m' })).toThrow(DataError);
});

test('loadFromEnv loads the real ml-100k and refuses to download when told not to', async () => {
  const shared = path.resolve(__dirname, '../../../shared/data');
  const ds = await loadFromEnv({ env: { BST_DATA_DIR: shared, BST_DATASET: 'ml-100k' }, download: false });
  expect(ds.ratings.numRows()).toBe(100000);
  await expect(loadFromEnv({ env: { BST_DATA_DIR: tmpDir(), BST_DATASET: 'ml-1m' }, download: false })).rejects.toThrow(
    DownloadError,
  );
});

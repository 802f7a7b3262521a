/**
 * Run folders belong to one run (real MovieLens-100k through the CLI, a tiny model, one epoch): `bst train`
 * refuses an --out holding a run unless --resume or --overwrite; --resume takes the run's own dataset,
 * split and config and refuses contradicting flags; `bst evaluate` refuses a checkpoint and metrics.json
 * of different runs; an --out that is a file or cannot be created fails before any work.
 */
import * as fs from 'fs';
import * as path from 'path';
import { captureCli, trainArgv, trainSmallRun, useTempFolder, writeSmallRelease } from './helpers';
import { loadRun } from '../../lib/app/experiment';
import { checkSameRun } from '../../lib/app/run-folder';
import { RunMismatchError } from '../../lib/util/errors';

const DATA =
  process.env.BST_DATA_DIR && fs.existsSync(path.join(process.env.BST_DATA_DIR, 'ml-100k'))
    ? process.env.BST_DATA_DIR
    : path.resolve(__dirname, '../../../shared/data');

const folder = useTempFolder('bst-runs-');
const { run, out, err } = captureCli();

const data = () => ['--data-dir', DATA, '--backend', 'wasm', '--no-progress'];
const tiny =
  'embedDim=4,posDim=2,ratingDim=2,numHeads=2,mlpUnits=8,userDim=2,demoDim=2,genreDim=2,yearDim=2,batchSize=2048';
const meta = (dir: string, which = 'best') =>
  JSON.parse(fs.readFileSync(path.join(dir, 'checkpoints', which, 'meta.json'), 'utf8'));
const readMetrics = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8'));
/** `bst train` of the tiny config for one epoch on ml-100k with 3-step sequences into `dir`, with further flags. */
const train = (dir: string, ...flags: string[]) =>
  run(trainArgv({ data: ['--dataset', 'ml-100k', ...data()], seqLen: 3, epochs: 1, set: tiny, out: dir, flags }));

test("train, refuse a second train, resume with the run's own settings, overwrite, and evaluate only matching parts", async () => {
  const a = path.join(folder.dir, 'a');
  expect(await train(a, '--k', '2', '--seed', '3')).toBe(0);
  const manifest = JSON.parse(fs.readFileSync(path.join(a, 'run.json'), 'utf8'));
  const m1 = readMetrics(a);
  expect(manifest).toMatchObject({
    dataset: 'ml-100k',
    split: { protocol: 'leave-last-k', k: 2, seed: 3 },
    config: { seqLen: 3, epochs: 1 },
  });
  expect(m1.run).toEqual(manifest.run);
  expect(meta(a).vocabularies.run).toEqual(manifest.run);
  expect(manifest.run.fingerprint).toMatch(/^[0-9a-f]{16}$/);

  // a fresh train into the same folder is refused before any work; the run is untouched
  const savedAt = meta(a).savedAt;
  expect(await train(a)).toBe(1);
  expect(err.join('\n')).toContain(`--out ${a} already holds a run`);
  expect(err.join('\n')).toMatch(/--resume.*--overwrite/);
  expect(meta(a).savedAt).toBe(savedAt);
  expect(readMetrics(a)).toEqual(m1);

  // --resume with a contradicting flag is refused, naming the recorded and the asked value
  expect(await run(['train', ...data(), '--resume', '--k', '1', '--out', a])).toBe(2);
  expect(err.join('\n')).toContain('split.k: recorded 2, asked 1');
  expect(await run(['train', ...data(), '--resume', '--dataset', 'ml-1m', '--out', a])).toBe(2);
  expect(err.join('\n')).toContain('dataset: recorded ml-100k, asked ml-1m');

  // --resume without --dataset/--k/--set/--data-dir: the run's ml-100k (in the recorded data folder), k=2,
  // seed 3 and tiny config; --epochs may grow
  expect(await run(['train', '--backend', 'wasm', '--no-progress', '--resume', '--epochs', '2', '--out', a])).toBe(0);
  expect(out.join('\n')).toMatch(/resumed from .*checkpoints\/last after epoch 1/);
  const m2 = readMetrics(a);
  expect(m2.dataset).toBe('ml-100k');
  expect(m2.split).toEqual(m1.split);
  expect(m2.epochsRun).toBe(2);
  expect(m2.run).toEqual(m1.run);
  expect({ ...m2.config, epochs: 1 }).toEqual(m1.config);

  // evaluate scores the run's own checkpoint on the run's own split
  expect(await run(['evaluate', ...data().slice(0, 4), '--model', a])).toBe(0);
  expect(JSON.parse(out.join('\n')).metrics.rmse).toBeCloseTo(m2.test.rmse, 5);

  // a folder whose checkpoint and metrics.json come from different runs is refused (was: scored silently)
  const b = path.join(folder.dir, 'b');
  fs.cpSync(a, b, { recursive: true });
  expect(await train(b, '--k', '1', '--overwrite')).toBe(0);
  const mb = readMetrics(b);
  expect(mb.run.id).not.toBe(m1.run.id);
  expect(meta(b).vocabularies.run.id).toBe(mb.run.id);
  fs.copyFileSync(path.join(a, 'metrics.json'), path.join(b, 'metrics.json')); // the old run's metrics with the new model
  for (const cmd of [['evaluate'], ['predict', '--user', '1', '--movies', '1,2']]) {
    expect(await run([...cmd, ...data().slice(0, 4), '--model', b])).toBe(1);
    expect(err.join('\n')).toMatch(
      /RunMismatchError: .*checkpoints\/best \(run .*\) and .*metrics\.json \(run .*\) belong to different runs/,
    );
  }
}, 120_000);

test('an --out that is a file, or under a file, fails at once with one line naming it', async () => {
  const file = path.join(folder.dir, 'a-file');
  fs.writeFileSync(file, 'not a folder');
  const t0 = Date.now();
  expect(await run(['train', '--dataset', 'ml-100k', ...data(), '--out', file])).toBe(1);
  expect(err).toEqual([`bst train: OutputError: --out ${file} is a file; --out names a folder`]);
  expect(await run(['train', '--dataset', 'ml-100k', ...data(), '--out', path.join(file, 'run')])).toBe(1);
  expect(err.join('\n')).toMatch(/--out .*a-file\/run is not writable \(ENOTDIR/);
  expect(await run(['benchmark', '--dataset', 'ml-100k', ...data().slice(0, 4), '--out', file])).toBe(1);
  expect(err.join('\n')).toContain(`--out ${file} is a file`);
  expect(await run(['tune', '--dataset', 'ml-100k', ...data().slice(0, 4), '--out', file])).toBe(1);
  expect(err.join('\n')).toContain(`--out ${file} is a file`);
  expect(await run(['evaluate', ...data().slice(0, 4), '--model', folder.dir, '--out', folder.dir])).toBe(1);
  expect(err.join('\n')).toContain(`--out ${folder.dir} is a folder; --out names a file`);
  expect(await run(['train-recommender', '--dataset', 'ml-100k', ...data().slice(0, 4), '--out', file])).toBe(1);
  expect(err.join('\n')).toContain(`--out ${file} is a file`);
  // a folder of an older bst (checkpoints, no run.json) cannot be resumed: its dataset and split are unknown
  const legacy = path.join(folder.dir, 'legacy');
  fs.mkdirSync(path.join(legacy, 'checkpoints', 'last'), { recursive: true });
  expect(await run(['train', ...data(), '--resume', '--out', legacy])).toBe(1);
  expect(err.join('\n')).toContain(
    `--resume: ${legacy} has no run.json (written by an older bst): its dataset and split are unknown`,
  );
  expect(await run(['train', ...data(), '--resume', '--overwrite', '--out', legacy])).toBe(2);
  expect(err.join('\n')).toContain('--resume and --overwrite exclude each other');
  expect(Date.now() - t0).toBeLessThan(5000); // no data was loaded, nothing trained
});

describe("loadRun checks that the folder's parts and the data belong together", () => {
  test('other ratings than the run was trained on are refused (split fingerprint)', async () => {
    const dataDir = path.join(folder.dir, 'fp-data');
    writeSmallRelease(dataDir, 1);
    const runDir = path.join(folder.dir, 'fp-run');
    await trainSmallRun(dataDir, runDir);
    await expect(loadRun(runDir, { dataDir })).resolves.toBeDefined();
    fs.rmSync(path.join(dataDir, 'ml-1m'), { recursive: true });
    writeSmallRelease(dataDir, 2); // same release name, other ratings
    await expect(loadRun(runDir, { dataDir })).rejects.toThrow(
      /this data does not give the split .*metrics\.json was trained and scored on \(fingerprint [0-9a-f]{16}, recorded [0-9a-f]{16}\)/,
    );
  }, 30_000);

  test('a run without run ids (older bst, train-recommender) is refused when its checkpoint is newer than its metrics', () => {
    const ckptDir = '/r/checkpoints/best';
    expect(() =>
      checkSameRun({
        runDir: '/r',
        ckptDir,
        metricsFinishedAt: '2026-01-01T10:00:00Z',
        ckptSavedAt: '2026-01-01T09:59:00Z',
      }),
    ).not.toThrow();
    expect(() =>
      checkSameRun({
        runDir: '/r',
        ckptDir,
        metricsFinishedAt: '2026-01-01T10:00:00Z',
        ckptSavedAt: '2026-01-02T08:00:00Z',
      }),
    ).toThrow(RunMismatchError);
    expect(() => checkSameRun({ runDir: '/r', ckptDir, metricsRun: { id: 'a', fingerprint: 'f' } })).toThrow(
      /run unknown\) and \/r\/metrics\.json \(run a\) belong to different runs/,
    );
  });
});

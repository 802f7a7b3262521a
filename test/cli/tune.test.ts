/**
 * `bst tune` file behaviour on a small synthetic release (one trial, one epoch): the winner goes to --out
 * (trials.json, tuned-config.json); lib/model/tuned-config.json is left alone unless --write-default, and
 * even then a file recording a better validation RMSE on the same dataset/protocol/k is never replaced.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generateSynthetic, loadMovieLens } from '../../lib/data';
import { main } from '../../lib/app/cli';
import { tune, tunedResultOf, TunedConfigFile } from '../../lib/app/tune';
import { TUNED_CONFIG_FILE } from '../../lib/app/benchmark';
import { OutputError } from '../../lib/util/errors';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-tune-'));
  generateSynthetic({
    dir: path.join(tmp, 'data', 'ml-1m'),
    format: 'ml-1m',
    numRatings: 1500,
    numUsers: 30,
    numMovies: 60,
    seed: 5,
  });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const small = 'embedDim=8,numHeads=2,mlpUnits=16/8,batchSize=256';
const space = {
  embedDim: [8],
  numHeads: [2],
  mlpUnits: [[16, 8]],
  dropout: [0.1],
  learningRate: [1e-3],
  useHistoryRatings: [true],
  positionKind: ['learned' as const],
  sequenceOutput: ['flatten' as const],
};

test('bst tune writes its winner to --out and leaves lib/model/tuned-config.json alone by default', async () => {
  const before = fs.readFileSync(TUNED_CONFIG_FILE, 'utf8');
  const out = path.join(tmp, 'tune-out');
  const logs: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logs.push(a.join(' ')));
  let code: number;
  try {
    code = await main([
      'tune',
      '--dataset',
      'ml-1m',
      '--data-dir',
      path.join(tmp, 'data'),
      '--backend',
      'wasm',
      '--trials',
      '1',
      '--epochs',
      '1',
      '--seq-len',
      '3',
      '--k',
      '1',
      '--set',
      small,
      '--out',
      out,
    ]);
  } finally {
    log.mockRestore();
  }
  expect(code).toBe(0);
  expect(fs.readFileSync(TUNED_CONFIG_FILE, 'utf8')).toBe(before);
  const trials = JSON.parse(fs.readFileSync(path.join(out, 'trials.json'), 'utf8'));
  const winner: TunedConfigFile = JSON.parse(fs.readFileSync(path.join(out, 'tuned-config.json'), 'utf8'));
  expect(trials.length).toBe(1);
  // each trial is trained with both default seeds (varied weights, dropout and batch order) and scored by their mean
  expect(trials[0].valRmsePerSeed).toHaveLength(2);
  expect(trials[0].valRmsePerSeed[0]).not.toBe(trials[0].valRmsePerSeed[1]);
  expect(trials[0].valRmse).toBeCloseTo((trials[0].valRmsePerSeed[0] + trials[0].valRmsePerSeed[1]) / 2, 10);
  expect(winner.result).toMatchObject({
    dataset: 'ml-1m',
    protocol: 'leave-last-k',
    k: 1,
    trials: 1,
    valRmse: trials[0].valRmse,
  });
  expect(winner.config).toMatchObject({ seqLen: 3, epochs: 1, ...trials[0].overrides });
  expect(fs.readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
}, 60_000);

test('--write-default replaces a worse result but never a better one (message with both numbers)', async () => {
  const dataset = loadMovieLens({ dir: path.join(tmp, 'data', 'ml-1m'), release: 'ml-1m' });
  const opts = {
    dataset,
    split: { protocol: 'leave-last-k' as const, k: 1, step: 2, seed: 42 },
    base: { seqLen: 3, epochs: 1, batchSize: 256 },
    space,
    trials: 1,
    seed: 1,
    trialSeeds: [1],
    log: () => {},
    writeDefault: true,
  };
  const file = path.join(tmp, 'default', 'tuned-config.json');
  const write = (valRmse: number, dataset = 'ml-1m') => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      JSON.stringify({
        source: `bst tune: best of 4 trials by validation RMSE on ${dataset} leave-last-k k=1 (val RMSE ${valRmse.toFixed(4)}, MAE 0.7); reproduce with: x`,
        config: { embedDim: 64 },
      }),
    );
  };
  // a better recorded result (val RMSE 0.1000) on the same dataset/protocol/k: refused, the file untouched
  write(0.1);
  const better = fs.readFileSync(file, 'utf8');
  const out = path.join(tmp, 'refused');
  const p = tune({ ...opts, outDir: out, defaultFile: file });
  await expect(p).rejects.toThrow(OutputError);
  await expect(p).rejects.toThrow(
    /records a better result on ml-1m leave-last-k k=1: val RMSE 0\.1000, this search \d\.\d{4}; not replaced/,
  );
  expect(fs.readFileSync(file, 'utf8')).toBe(better);
  expect(fs.existsSync(path.join(out, 'tuned-config.json'))).toBe(true); // the search's own result is kept
  // a worse recorded result: replaced, and the new file records its numbers
  write(9);
  const sorted = await tune({ ...opts, defaultFile: file });
  const now: TunedConfigFile = JSON.parse(fs.readFileSync(file, 'utf8'));
  expect(tunedResultOf(now)).toMatchObject({
    dataset: 'ml-1m',
    protocol: 'leave-last-k',
    k: 1,
    valRmse: sorted[0].valRmse,
  });
  // a result on another dataset is not comparable: replaced on request
  write(0.1, 'ml-100k');
  await tune({ ...opts, defaultFile: file });
  expect(tunedResultOf(JSON.parse(fs.readFileSync(file, 'utf8')))!.dataset).toBe('ml-1m');
}, 60_000);

test('the committed tuned config records its search: 24 trials x 2 seeds on ml-100k leave-last-k k=5, the same numbers as its source text', () => {
  const file: TunedConfigFile = JSON.parse(fs.readFileSync(TUNED_CONFIG_FILE, 'utf8'));
  expect(tunedResultOf(file)).toMatchObject({
    dataset: 'ml-100k',
    protocol: 'leave-last-k',
    k: 5,
    trials: 24,
    trialSeeds: [1, 2],
  });
  // the result record and the human-readable source agree (the source alone is what older files had)
  expect(tunedResultOf({ source: file.source, config: file.config })!.valRmse).toBeCloseTo(file.result!.valRmse, 4);
});

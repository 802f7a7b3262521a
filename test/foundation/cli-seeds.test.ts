/**
 * The CLI's new defaults and flags on a small synthetic MovieLens-1M-format release: `bst train` starts from
 * the tuned config with k=5 unless told otherwise, --loss picks the objective, and `bst evaluate --model a,b`
 * scores the seed ensemble (the mean of the runs' predictions), labelled as such.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generateSynthetic } from '../../lib/data';
import { captureCli } from '../cli/helpers';
import { tunedBstConfig } from '../../lib/app/benchmark';
import { defaultConfig } from '../../lib/model';

let tmp: string;
const { run, out, err } = captureCli();

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-cli-seeds-'));
  generateSynthetic({
    dir: path.join(tmp, 'data', 'ml-1m'),
    format: 'ml-1m',
    numRatings: 2000,
    numUsers: 40,
    numMovies: 80,
    seed: 3,
  });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const common = () => ['--dataset', 'ml-1m', '--data-dir', path.join(tmp, 'data'), '--backend', 'wasm'];
const tiny = 'embedDim=8,posDim=4,ratingDim=4,numHeads=2,mlpUnits=16/8,userDim=4,batchSize=128';
const metricsOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8'));

test('train: tuned config and k=5 by default, --loss and --base paper; evaluate --model a,b scores the ensemble', async () => {
  const a = path.join(tmp, 'a'),
    b = path.join(tmp, 'b'),
    p = path.join(tmp, 'paper');
  expect(
    await run([
      'train',
      ...common(),
      '--seq-len',
      '4',
      '--epochs',
      '1',
      '--set',
      tiny,
      '--loss',
      'mae',
      '--seed',
      '1',
      '--out',
      a,
      '--no-progress',
    ]),
  ).toBe(0);
  const ma = metricsOf(a);
  expect(ma.split.k).toBe(5);
  expect(ma.config.loss).toBe('mae');
  const tuned = tunedBstConfig();
  expect(tuned.ffnMult).not.toBe(defaultConfig().ffnMult); // so the next line can tell the two apart
  expect(ma.config.ffnMult).toBe(tuned.ffnMult);
  expect(ma.config.dropout).toBe(tuned.dropout);
  expect(ma.config.embedDim).toBe(8); // --set still wins
  expect(
    await run([
      'train',
      ...common(),
      '--seq-len',
      '4',
      '--epochs',
      '1',
      '--set',
      tiny,
      '--base',
      'paper',
      '--out',
      p,
      '--no-progress',
    ]),
  ).toBe(0);
  expect(metricsOf(p).config.ffnMult).toBe(defaultConfig().ffnMult);
  expect(metricsOf(p).config.loss).toBe('mse');

  expect(
    await run([
      'train',
      ...common(),
      '--seq-len',
      '4',
      '--epochs',
      '1',
      '--set',
      tiny,
      '--loss',
      'mae',
      '--seed',
      '2',
      '--out',
      b,
      '--no-progress',
    ]),
  ).toBe(0);
  expect(await run(['evaluate', ...common(), '--model', `${a},${b}`])).toBe(0);
  const ens = JSON.parse(out.join('\n'));
  expect(ens.model).toBe('ensemble (mean of 2 models)');
  expect(ens.members.map((m: { model: string }) => m.model)).toEqual([a, b]);
  expect(ens.members[0].metrics.mae).toBeCloseTo(ma.test.mae, 5);
  expect(ens.members[1].metrics.mae).toBeCloseTo(metricsOf(b).test.mae, 5);
  expect(ens.metrics.n).toBe(ma.test.n);
  // the mean of two predictions is never worse in MAE than the worse member (|mean error| <= mean |error|)
  expect(ens.metrics.mae).toBeLessThanOrEqual(Math.max(ens.members[0].metrics.mae, ens.members[1].metrics.mae) + 1e-9);
  expect(ens.metrics.mae).not.toBeCloseTo(ens.members[0].metrics.mae, 6);

  // runs on different splits cannot be ensembled
  const k2 = path.join(tmp, 'k2');
  expect(
    await run([
      'train',
      ...common(),
      '--k',
      '2',
      '--seq-len',
      '4',
      '--epochs',
      '1',
      '--set',
      tiny,
      '--out',
      k2,
      '--no-progress',
    ]),
  ).toBe(0);
  expect(await run(['evaluate', ...common(), '--model', `${a},${k2}`])).not.toBe(0);
  expect(err.join('\n')).toMatch(/an ensemble needs the same split and targets/);
}, 120000);

test('bad --loss / --losses values are usage errors naming the value', async () => {
  expect(await run(['train', ...common(), '--loss', 'l1'])).toBe(2);
  expect(err.join('\n')).toMatch(/--loss "l1": expected one of mse, mae, huber/);
  expect(await run(['benchmark', ...common(), '--losses', 'mse,l1'])).not.toBe(0);
  expect(err.join('\n')).toMatch(/--losses: unknown objective "l1"/);
});

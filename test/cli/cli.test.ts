/**
 * The `bst` command line end to end on a small synthetic MovieLens-1M-format release: train writes a run
 * folder, evaluate reproduces its test metrics from the checkpoint, predict scores movies, bad flags fail
 * with exit code 2 and a usage text.
 */
import * as fs from 'fs';
import * as path from 'path';
import { captureCli, TINY_SET, trainArgv, useSyntheticRelease } from './helpers';

const release = useSyntheticRelease('bst-cli-');
const { run, out, err } = captureCli();
const common = release.common;

test('train -> evaluate -> predict', async () => {
  const runDir = path.join(release.dir, 'run');
  const data = [...common(), '--no-progress'];
  expect(await run(trainArgv({ data, seqLen: 4, epochs: 2, set: TINY_SET, out: runDir, flags: ['--k', '2'] }))).toBe(0);
  const metrics = JSON.parse(fs.readFileSync(path.join(runDir, 'metrics.json'), 'utf8'));
  expect(metrics.split).toEqual({ protocol: 'leave-last-k', k: 2, step: 2, seed: 42 });
  expect(metrics.leaky).toBe(false);
  expect(metrics.counts.test).toBe(80); // 40 users x k=2 (every synthetic user has >= 5 ratings)
  expect(metrics.test.n).toBe(80);
  expect(metrics.config.seqLen).toBe(4);
  expect(metrics.epochsRun).toBe(2);
  expect(metrics.test.mae).toBeGreaterThan(0);
  expect(metrics.test.rmse).toBeGreaterThanOrEqual(metrics.test.mae);
  expect(out.join('\n')).toMatch(/test MAE \d\.\d{4} RMSE \d\.\d{4} \(n=80\)/);
  // the load report is printed (on stderr, so stdout stays the command's output)
  expect(err.join('\n')).toMatch(/ml-1m: 2000 ratings read, 2000 kept, 0 dropped/);

  expect(await run(['evaluate', ...common(), '--model', runDir])).toBe(0);
  const evaluated = JSON.parse(out.join('\n'));
  expect(evaluated.scored).toBe('test');
  expect(evaluated.metrics.mae).toBeCloseTo(metrics.test.mae, 5);
  expect(evaluated.metrics.rmse).toBeCloseTo(metrics.test.rmse, 5);

  expect(await run(['predict', ...common(), '--model', runDir, '--user', '1', '--movies', '1,2,3'])).toBe(0);
  const lines = out.filter((l) => /^\d+\t/.test(l));
  expect(lines.map((l) => l.split('\t')[0])).toEqual(['1', '2', '3']);
  for (const l of lines) expect(Number(l.split('\t')[1])).toBeGreaterThan(0);

  expect(await run(['predict', ...common(), '--model', runDir, '--user', '99999', '--movies', '1'])).toBe(1);
  expect(err.join('\n')).toMatch(/user 99999 is unknown to the model/);
});

test.each([
  [['train', '--epochs', 'x'], '--epochs "x": expected an integer'],
  [['train', '--protocol', 'random'], '--protocol "random": expected one of leave-last-k, legacy-random-windows'],
  [['evaluate'], '--model is required'],
  [['train', '--lr', '0.1'], 'unknown flag --lr'],
])('bad flags %j exit 2 with the reason and the usage', async (argv, reason) => {
  expect(await run(argv as string[])).toBe(2);
  expect(err.join('\n')).toContain(reason);
  expect(err.join('\n')).toContain(`usage: bst ${(argv as string[])[0]} [flags]`);
});

test('an unknown command lists the commands', async () => {
  expect(await run(['fit'])).toBe(2);
  expect(err.join('\n')).toMatch(/unknown command "fit"[\s\S]*train[\s\S]*evaluate[\s\S]*predict/);
});

test('a bad --set key is a config error naming the key', async () => {
  expect(await run(['train', ...common(), '--set', 'embedDims=8', '--out', path.join(release.dir, 'bad')])).toBe(1);
  expect(err.join('\n')).toMatch(/unknown config key 'embedDims'/);
});

test('synth writes a seeded release that the loaders read; a bad --echo names the field and value', async () => {
  const dir = path.join(release.dir, 'synth', 'ml-1m');
  const argv = ['synth', '--out', dir, '--ratings', '3000', '--users', '30', '--movies', '120', '--echo', '0.5'];
  expect(await run(argv)).toBe(0);
  expect(out.join('\n')).toMatch(/3000 ratings, 30 users, 120 movies \(ml-1m format\); 0.5 of ratings echo/);
  const first = fs.readFileSync(path.join(dir, 'ratings.dat'));
  expect(first.toString('latin1').trim().split('\n')).toHaveLength(3000);
  expect(await run(argv)).toBe(0); // same flags, same bytes (the folder is replaced atomically)
  expect(fs.readFileSync(path.join(dir, 'ratings.dat')).equals(first)).toBe(true);
  expect(await run(['synth', '--out', dir, '--ratings', '3000', '--echo', '2'])).toBe(1);
  expect(err.join('\n')).toMatch(/echo.probability must be in \[0, 1\], got 2/);
  expect(await run(['synth', '--out', dir])).toBe(2); // --ratings is required
});

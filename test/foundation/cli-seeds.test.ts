/**
 * The CLI's new defaults and flags on a small synthetic MovieLens-1M-format release: `bst train` starts from
 * the tuned config with k=5 unless told otherwise, --loss picks the objective, and `bst evaluate --model a,b`
 * scores the seed ensemble (the mean of the runs' predictions), labelled as such.
 */
import * as fs from 'fs';
import * as path from 'path';
import { captureCli, TINY_SET, trainArgv, useSyntheticRelease } from '../cli/helpers';
import { tunedBstConfig } from '../../lib/app/benchmark';
import { defaultConfig } from '../../lib/model';

const release = useSyntheticRelease('bst-cli-seeds-');
const { run, out, err } = captureCli();
const common = release.common;
/** `bst train` of the tiny config for one epoch on 4-step sequences into `dir`, with further flags. */
const train = (dir: string, ...flags: string[]) =>
  run(trainArgv({ data: [...common(), '--no-progress'], seqLen: 4, epochs: 1, set: TINY_SET, out: dir, flags }));
const metricsOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8'));

test('train: tuned config and k=5 by default, --loss and --base paper; evaluate --model a,b scores the ensemble', async () => {
  const a = path.join(release.dir, 'a'),
    b = path.join(release.dir, 'b'),
    p = path.join(release.dir, 'paper');
  expect(await train(a, '--loss', 'mae', '--seed', '1')).toBe(0);
  const ma = metricsOf(a);
  expect(ma.split.k).toBe(5);
  expect(ma.config.loss).toBe('mae');
  const tuned = tunedBstConfig();
  expect(tuned.ffnMult).not.toBe(defaultConfig().ffnMult); // so the next line can tell the two apart
  expect(ma.config.ffnMult).toBe(tuned.ffnMult);
  expect(ma.config.dropout).toBe(tuned.dropout);
  expect(ma.config.embedDim).toBe(8); // --set still wins
  expect(await train(p, '--base', 'paper')).toBe(0);
  expect(metricsOf(p).config.ffnMult).toBe(defaultConfig().ffnMult);
  expect(metricsOf(p).config.loss).toBe('mse');

  expect(await train(b, '--loss', 'mae', '--seed', '2')).toBe(0);
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
  const k2 = path.join(release.dir, 'k2');
  expect(await train(k2, '--k', '2')).toBe(0);
  expect(await run(['evaluate', ...common(), '--model', `${a},${k2}`])).not.toBe(0);
  expect(err.join('\n')).toMatch(/an ensemble needs the same split and targets/);
}, 120000);

test('bad --loss / --losses values are usage errors naming the value', async () => {
  expect(await run(['train', ...common(), '--loss', 'l1'])).toBe(2);
  expect(err.join('\n')).toMatch(/--loss "l1": expected one of mse, mae, huber/);
  expect(await run(['benchmark', ...common(), '--losses', 'mse,l1'])).not.toBe(0);
  expect(err.join('\n')).toMatch(/--losses: unknown objective "l1"/);
});

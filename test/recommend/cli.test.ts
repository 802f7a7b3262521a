import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadMovieLens } from '../../lib/data/index';
import { runExperiment } from '../../lib/app/experiment';
import { recommendCommand, trainRecommenderCommand } from '../../lib/app/recommend-cli';
import { parseFlags, UsageError } from '../../lib/util/args';
import { tinyConfig, useCpu } from '../model/helpers';
import { HISTORIES, tinyDataset } from './fixtures';

beforeAll(useCpu);

test('bst recommend: a trained run folder -> top-k table, JSON, errors and cold start', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-rec-cli-'));
  const src = tinyDataset();
  const dataDir = path.join(root, 'data');
  fs.cpSync(src.dir, path.join(dataDir, 'ml-1m'), { recursive: true });
  const dataset = loadMovieLens({ dir: path.join(dataDir, 'ml-1m'), release: 'ml-1m' });
  const runDir = path.join(root, 'run');
  await runExperiment({ dataset, config: tinyConfig({ epochs: 1 }), outDir: runDir, log: null, progress: false });
  const lines: string[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((s: unknown) => void lines.push(String(s)));
  try {
    const go = (argv: string[]) => recommendCommand.run(parseFlags(argv, recommendCommand.flags));
    await go(['--model', runDir, '--user', '2', '--k', '2', '--data-dir', dataDir, '--backend', 'cpu']);
    if (lines[0].startsWith('bst-lab: tfjs backend')) lines.shift(); // the backend line of the first initBackend
    expect(lines[0]).toMatch(/^top 2 for user 2 \(3 movies scored/);
    expect(lines[0].split('\n').length).toBe(3);
    expect(lines[0]).toMatch(/-- (because you rated .+|no single history item matters much)\n/); // an explanation per pick
    lines.length = 0;
    await go(['--model', runDir, '--user', '4', '--json', '--data-dir', dataDir, '--backend', 'cpu']);
    const r = JSON.parse(lines[0]);
    const rated = HISTORIES[4].map(([m]) => m);
    expect(r.items.length).toBe(3);
    for (const x of r.items) expect(rated).not.toContain(x.movieId);
    await expect(go(['--model', runDir, '--user', '77', '--data-dir', dataDir, '--backend', 'cpu'])).rejects.toThrow(
      /user 77 is unknown/,
    );
    lines.length = 0;
    await go([
      '--model',
      runDir,
      '--user',
      '77',
      '--cold-start',
      '--history',
      '30',
      '--k',
      '1',
      '--data-dir',
      dataDir,
      '--backend',
      'cpu',
    ]);
    expect(lines[0]).toMatch(/cold start/);
    expect(lines[0]).toMatch(/Babe|Clueless/); // shares Toy Story's Children's / Comedy genres
  } finally {
    spy.mockRestore();
  }
});

test('bst train-recommender: like head with sampled negatives -> a run folder `bst recommend` loads (exact and two-stage)', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-rec-train-'));
  const src = tinyDataset();
  const dataDir = path.join(root, 'data');
  fs.cpSync(src.dir, path.join(dataDir, 'ml-1m'), { recursive: true });
  const out = path.join(root, 'like');
  const lines: string[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((s: unknown) => void lines.push(String(s)));
  try {
    const train = (argv: string[]) => trainRecommenderCommand.run(parseFlags(argv, trainRecommenderCommand.flags));
    const tiny =
      'embedDim=4,posDim=2,ratingDim=2,numHeads=2,ffnMult=2,mlpUnits=16/8,userDim=3,demoDim=2,genreDim=3,yearDim=2,batchSize=32';
    await expect(
      train(['--dataset', 'ml-1m', '--data-dir', dataDir, '--out', out, '--negatives', '0', '--backend', 'cpu']),
    ).rejects.toThrow(UsageError);
    await train([
      '--dataset',
      'ml-1m',
      '--data-dir',
      dataDir,
      '--out',
      out,
      '--negatives',
      '2',
      '--epochs',
      '1',
      '--seq-len',
      '5',
      '--no-tuned',
      '--set',
      tiny,
      '--no-progress',
      '--backend',
      'cpu',
      '--retriever',
      'none',
    ]);
    const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    expect(metrics.config.task).toBe('like');
    expect(metrics.recommender.negatives).toBe(2);
    expect(metrics.test.auc).toBeGreaterThanOrEqual(0);
    expect(metrics.test.n).toBe(4 * 3); // 4 users' test targets, each with 2 negatives
    expect(fs.existsSync(path.join(out, 'checkpoints', 'best'))).toBe(true);
    expect(lines.some((l) => /like head, 2 sampled negatives: test AUC/.test(l))).toBe(true);
    const rec = (argv: string[]) => recommendCommand.run(parseFlags(argv, recommendCommand.flags));
    lines.length = 0;
    await rec(['--model', out, '--user', '1', '--k', '2', '--json', '--data-dir', dataDir, '--backend', 'cpu']);
    const exact = JSON.parse(lines[lines.length - 1]);
    expect(exact.mode).toBe('exact');
    expect(exact.items.length).toBe(2);
    for (const x of exact.items) expect(x.score).toBeGreaterThan(0); // like probabilities
    lines.length = 0;
    await rec([
      '--model',
      out,
      '--user',
      '1',
      '--k',
      '2',
      '--mode',
      'two-stage',
      '--pool',
      '2',
      '--data-dir',
      dataDir,
      '--backend',
      'cpu',
    ]);
    expect(lines[lines.length - 1]).toMatch(/two-stage: 2 of 3 movies re-ranked by the model/);
  } finally {
    spy.mockRestore();
  }
});

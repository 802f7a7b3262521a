/** `bst train-recommender --retriever sasrec` -> `bst recommend` runs retrieval -> BST ranking and says so. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { recommendCommand, trainRecommenderCommand } from '../../lib/app/recommend-cli';
import { parseFlags } from '../../lib/util/args';
import { useCpu } from '../model/helpers';
import { HISTORIES, tinyDataset } from './fixtures';

beforeAll(useCpu);

test('train-recommender (default --retriever sasrec) saves retriever + ranker; recommend defaults to the pipeline and prints the mode', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-pipe-cli-'));
  const dataDir = path.join(root, 'data');
  fs.cpSync(tinyDataset().dir!, path.join(dataDir, 'ml-1m'), { recursive: true });
  const out = path.join(root, 'pipe');
  const lines: string[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((s: unknown) => void lines.push(String(s)));
  try {
    const train = (argv: string[]) => trainRecommenderCommand.run(parseFlags(argv, trainRecommenderCommand.flags));
    const tiny =
      'embedDim=4,posDim=2,ratingDim=2,numHeads=2,ffnMult=2,mlpUnits=16/8,userDim=3,demoDim=2,genreDim=3,yearDim=2,batchSize=32';
    const base = [
      '--dataset',
      'ml-1m',
      '--data-dir',
      dataDir,
      '--negatives',
      '1',
      '--hard-negatives',
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
      '--retriever-epochs',
      '2',
    ];
    await expect(
      train([...base, '--retriever', 'sasrec', '--out', path.join(root, 'bad'), '--k', '2']),
    ).rejects.toThrow(/--retriever sasrec: needs --task like and --k 1/);
    await train([...base, '--out', out]); // --task like --k 1: the retriever is trained by default
    expect(fs.existsSync(path.join(out, 'retriever', 'seqrec.bin'))).toBe(true);
    const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    expect(metrics.recommender.pipeline.retriever).toBe('sasrec');
    expect([50, 100, 200]).toContain(metrics.recommender.pipeline.m);
    const rec = (argv: string[]) => recommendCommand.run(parseFlags(argv, recommendCommand.flags));
    lines.length = 0;
    await rec(['--model', out, '--user', '2', '--k', '2', '--blend', '0', '--data-dir', dataDir, '--backend', 'cpu']);
    expect(lines[lines.length - 1]).toMatch(
      /^top 2 for user 2 \(mode: retrieval \(sasrec, M=\d+\) → BST ranking; 3 of 3 movies retrieved and scored/,
    );
    lines.length = 0;
    await rec(['--model', out, '--user', '4', '--json', '--data-dir', dataDir, '--backend', 'cpu']);
    const r = JSON.parse(lines[lines.length - 1]);
    expect(r.mode).toBe('pipeline');
    const rated = HISTORIES[4].map(([m]) => m);
    for (const x of r.items) expect(rated).not.toContain(x.movieId);
    lines.length = 0;
    await rec([
      '--model',
      out,
      '--user',
      '2',
      '--k',
      '2',
      '--mode',
      'exact',
      '--data-dir',
      dataDir,
      '--backend',
      'cpu',
    ]);
    expect(lines[lines.length - 1]).toMatch(/3 movies scored in [\d.]+ ms; mode: exact/);
  } finally {
    spy.mockRestore();
  }
});

test('train-recommender --retriever two-tower saves the two-tower retriever; recommend runs retrieval (two-tower) -> BST ranking', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-pipe-cli-tt-'));
  const dataDir = path.join(root, 'data');
  fs.cpSync(tinyDataset().dir!, path.join(dataDir, 'ml-1m'), { recursive: true });
  const out = path.join(root, 'pipe');
  const lines: string[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((s: unknown) => void lines.push(String(s)));
  try {
    const tiny =
      'embedDim=4,posDim=2,ratingDim=2,numHeads=2,ffnMult=2,mlpUnits=16/8,userDim=3,demoDim=2,genreDim=3,yearDim=2,batchSize=32';
    await trainRecommenderCommand.run(
      parseFlags(
        [
          '--dataset',
          'ml-1m',
          '--data-dir',
          dataDir,
          '--negatives',
          '1',
          '--hard-negatives',
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
          'two-tower',
          '--retriever-epochs',
          '2',
          '--out',
          out,
        ],
        trainRecommenderCommand.flags,
      ),
    );
    expect(fs.existsSync(path.join(out, 'retriever', 'twotower.bin'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'retriever', 'seqrec.bin'))).toBe(false);
    const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    expect(metrics.recommender.pipeline.retriever).toBe('two-tower');
    lines.length = 0;
    await recommendCommand.run(
      parseFlags(
        ['--model', out, '--user', '4', '--k', '2', '--blend', '0', '--data-dir', dataDir, '--backend', 'cpu'],
        recommendCommand.flags,
      ),
    );
    expect(lines[lines.length - 1]).toMatch(/^top 2 for user 4 \(mode: retrieval \(two-tower, M=\d+\) → BST ranking; /);
    lines.length = 0;
    await recommendCommand.run(
      parseFlags(
        ['--model', out, '--user', '4', '--json', '--data-dir', dataDir, '--backend', 'cpu'],
        recommendCommand.flags,
      ),
    );
    const r = JSON.parse(lines[lines.length - 1]);
    const rated = HISTORIES[4].map(([m]) => m);
    for (const x of r.items) expect(rated).not.toContain(x.movieId);
  } finally {
    spy.mockRestore();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadMovieLens } from '../../lib/data/index';
import { runExperiment } from '../../lib/experiment';
import { recommendCommand } from '../../lib/recommend/cli';
import { parseFlags } from '../../lib/util/args';
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
    expect(lines[0]).toMatch(/because you rated/);
    lines.length = 0;
    await go(['--model', runDir, '--user', '4', '--json', '--data-dir', dataDir, '--backend', 'cpu']);
    const r = JSON.parse(lines[0]);
    const rated = HISTORIES[4].map(([m]) => m);
    expect(r.items.length).toBe(3);
    for (const x of r.items) expect(rated).not.toContain(x.movieId);
    await expect(go(['--model', runDir, '--user', '77', '--data-dir', dataDir, '--backend', 'cpu'])).rejects.toThrow(/user 77 is unknown/);
    lines.length = 0;
    await go(['--model', runDir, '--user', '77', '--cold-start', '--history', '30', '--k', '1', '--data-dir', dataDir, '--backend', 'cpu']);
    expect(lines[0]).toMatch(/cold start/);
    expect(lines[0]).toMatch(/Babe|Clueless/); // shares Toy Story's Children's / Comedy genres
  } finally {
    spy.mockRestore();
  }
});

/**
 * One top-level error handler: whatever a command throws, `bst` prints one line `bst <command>: <message>`
 * (truncated, no stack, no minified sources), the stack only with --verbose or BST_VERBOSE=1, and exits
 * 2 for a bad command line, 1 for a failed command, 70 for an internal error.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { registerCommand } from '../../lib/app/cli';
import { captureCli, trainSmallRun, useTempFolder, writeSmallRelease } from './helpers';
import { describeError, EXIT, MAX_MESSAGE_CHARS } from '../../lib/util/error-message';
import { UsageError } from '../../lib/util/args';
import { DataError } from '../../lib/util/errors';

const folder = useTempFolder('bst-errors-');
const { run, err } = captureCli();

let thrown: unknown;
beforeAll(() => {
  registerCommand('throw-test', {
    summary: 'throws `thrown`',
    flags: {},
    run: async () => {
      throw thrown;
    },
  });
});
afterEach(() => void delete process.env.BST_VERBOSE);

test('a foreign error with a huge minified message: one short line, exit 70, the stack only when verbose', async () => {
  thrown = new TypeError(`Cannot read properties of undefined; ${'function(e){return e}'.repeat(1800)}`); // ~36,000 characters
  expect(await run(['throw-test'])).toBe(EXIT.internal);
  expect(err.length).toBe(1);
  expect(err[0]).toMatch(/^bst throw-test: internal error: TypeError: Cannot read properties of undefined; function/);
  expect(err[0].length).toBeLessThan(MAX_MESSAGE_CHARS + 150);
  expect(err[0]).toContain('characters in all; --verbose prints everything');
  expect(err[0]).not.toMatch(/\n\s+at /);
  expect(await run(['throw-test', '--verbose'])).toBe(EXIT.internal);
  expect(err.join('\n')).toMatch(/\n\s+at /);
  process.env.BST_VERBOSE = '1';
  expect(await run(['throw-test'])).toBe(EXIT.internal);
  expect(err.join('\n')).toMatch(/\n\s+at /);
});

test.each([
  [
    'ENOENT',
    () => fs.readFileSync('/no/such/file.json'),
    '/no/such/file.json: no such file or folder (ENOENT in open)',
  ],
  ['EISDIR', () => fs.readFileSync(os.tmpdir()), 'is a folder, expected a file (EISDIR in read)'],
  [
    'ENOTDIR',
    () => fs.mkdirSync(path.join(__filename, 'x')),
    `${path.join(__filename, 'x')}: a part of the path is a file, expected a folder (ENOTDIR in mkdir)`,
  ],
])('Node file-system error %s: exit 1 and a line naming the path', async (_code, fail, line) => {
  try {
    fail();
  } catch (e) {
    thrown = e;
  }
  expect(await run(['throw-test'])).toBe(EXIT.failure);
  expect(err).toEqual([expect.stringContaining(line)]);
  expect(err[0]).toMatch(/^bst throw-test: /);
});

test('EACCES and ENOSPC name the path too', () => {
  const errno = (code: string) =>
    Object.assign(new Error(`${code}: x, open '/data/runs/a/metrics.json'`), {
      code,
      syscall: 'open',
      path: '/data/runs/a/metrics.json',
    });
  expect(describeError(errno('EACCES'))).toEqual({
    message: '/data/runs/a/metrics.json: permission denied (EACCES in open)',
    code: EXIT.failure,
  });
  expect(describeError(errno('ENOSPC'))).toEqual({
    message: '/data/runs/a/metrics.json: no space left on the device (ENOSPC in open)',
    code: EXIT.failure,
  });
  expect(describeError(new UsageError('--k x'))).toEqual({ message: '--k x', code: EXIT.usage });
  expect(describeError(new DataError('bad', 'f.csv', 3)).message).toBe('DataError: f.csv:3: bad');
});

test('a corrupt checkpoint (truncated meta.json) is a DataError naming the file, on evaluate, predict and recommend', async () => {
  const dataDir = path.join(folder.dir, 'data');
  writeSmallRelease(dataDir, 2);
  const runDir = path.join(folder.dir, 'run');
  await trainSmallRun(dataDir, runDir);
  const metaFile = path.join(runDir, 'checkpoints', 'best', 'meta.json');
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
  fs.writeFileSync(metaFile, JSON.stringify(meta).slice(0, 100));
  const common = ['--model', runDir, '--data-dir', dataDir, '--backend', 'cpu', '--user', '1'];
  for (const argv of [
    ['evaluate', '--model', runDir, '--data-dir', dataDir, '--backend', 'cpu'],
    ['predict', ...common, '--movies', '1'],
    ['recommend', ...common],
  ]) {
    expect(await run(argv)).toBe(EXIT.failure);
    expect(err.length).toBe(1);
    expect(err[0]).toMatch(
      new RegExp(
        `^bst ${argv[0]}: DataError: ${metaFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid JSON \\(.*\\); the file is corrupt or truncated$`,
      ),
    );
  }
  // truncated weights: a TrainingError naming the checkpoint folder (was: tfjs's "Based on the provided shape" as an internal error)
  fs.writeFileSync(metaFile, JSON.stringify(meta));
  const weights = path.join(runDir, 'checkpoints', 'best', 'weights.bin');
  fs.writeFileSync(weights, fs.readFileSync(weights).subarray(0, 300));
  expect(await run(['evaluate', '--model', runDir, '--data-dir', dataDir, '--backend', 'cpu'])).toBe(EXIT.failure);
  expect(err).toEqual([
    expect.stringMatching(
      /^bst evaluate: TrainingError: .*checkpoints\/best: the checkpoint cannot be loaded \(.*\); its files are corrupt or truncated$/,
    ),
  ]);
  // a missing run folder: one line naming it
  expect(await run(['recommend', '--model', path.join(folder.dir, 'nope'), '--user', '1', '--backend', 'cpu'])).toBe(
    EXIT.failure,
  );
  expect(err).toEqual([
    `bst recommend: DataError: ${path.join(folder.dir, 'nope')}: not a run folder written by \`bst train\` (no metrics.json)`,
  ]);
}, 30_000);

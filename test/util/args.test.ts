import { flagUsage, parseFlags, UsageError } from '../../lib/util/args';

const spec = {
  dataset: { type: 'string', help: 'MovieLens release', default: 'ml-1m', choices: ['ml-100k', 'ml-1m'] },
  'seq-len': { type: 'int', help: 'sequence length', default: 10 },
  lr: { type: 'number', help: 'learning rate' },
  resume: { type: 'boolean', help: 'continue from the last checkpoint', default: false },
  out: { type: 'string', help: 'output folder', required: true },
} as const;

describe('parseFlags', () => {
  test('parses both flag forms, converts types, fills defaults, camelCases keys', () => {
    expect(
      parseFlags(['--out', 'runs/a', '--seq-len=4', '--lr', '0.001', '--resume', '--dataset', 'ml-100k'], spec),
    ).toEqual({
      dataset: 'ml-100k',
      seqLen: 4,
      lr: 0.001,
      resume: true,
      out: 'runs/a',
    });
    expect(parseFlags(['--out=x', '--no-resume'], spec)).toEqual({
      dataset: 'ml-1m',
      seqLen: 10,
      resume: false,
      out: 'x',
    });
  });

  test.each([
    [['--out', 'x', '--seq-len', '4.5'], '--seq-len "4.5": expected an integer'],
    [['--out', 'x', '--lr', 'fast'], '--lr "fast": expected a number'],
    [['--out', 'x', '--dataset', 'ml-2m'], '--dataset "ml-2m": expected one of ml-100k, ml-1m'],
    [
      ['--out', 'x', '--epochs', '3'],
      'unknown flag --epochs; known flags: --dataset, --seq-len, --lr, --resume, --out',
    ],
    [['--out'], '--out needs a value (output folder)'],
    [[], '--out is required (output folder)'],
    [['train'], 'unexpected argument "train" (flags start with --)'],
    [['--out', 'x', '--resume=maybe'], '--resume="maybe": expected true or false'],
  ])('%j is refused: %s', (argv, message) => {
    expect(() => parseFlags(argv as string[], spec)).toThrow(new UsageError(message));
  });

  test('usage lists every flag with its default', () => {
    const u = flagUsage(spec);
    expect(u).toContain('--dataset <ml-100k|ml-1m>');
    expect(u).toMatch(/--seq-len <int> +sequence length \(default 10\)/);
    expect(u).toMatch(/--out <string> +output folder \(required\)/);
  });
});

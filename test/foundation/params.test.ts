import { envName, params, resolveParams, runMode } from '../../lib/app/params';
import { ConfigError } from '../../lib/util/errors';

describe('params', () => {
  const defaults = { seqLen: 10, epochs: 5, dataset: 'ml-1m', shuffle: true, seqLens: [1, 4, 10] };

  test('names the variables BST_UPPER_SNAKE', () => {
    expect(envName('seqLen')).toBe('BST_SEQ_LEN');
    expect(envName('epochs')).toBe('BST_EPOCHS');
    expect(envName('mlpUnits2D')).toBe('BST_MLP_UNITS2_D');
  });

  test('defaults, then preset, then variables, parsed to the default type', () => {
    const env = { BST_PRESET: 'small', BST_SEQ_LEN: '4', BST_SHUFFLE: 'false', BST_SEQ_LENS: '1, 2' };
    const p = params(defaults, { small: { epochs: 1, seqLen: 3 } }, { env, print: false });
    expect(p).toEqual({ seqLen: 4, epochs: 1, dataset: 'ml-1m', shuffle: false, seqLens: [1, 2] });
  });

  test('no environment: the defaults unchanged', () => {
    expect(params(defaults, {}, { env: {}, print: false })).toEqual(defaults);
  });

  test('a value that does not parse names the variable and the value', () => {
    expect(() => params(defaults, {}, { env: { BST_EPOCHS: 'five' }, print: false })).toThrow(
      new ConfigError('BST_EPOCHS="five" is not a number'),
    );
    expect(() => params(defaults, {}, { env: { BST_SEQ_LENS: '1,x' }, print: false })).toThrow(/BST_SEQ_LENS="1,x"/);
  });

  test('an unknown preset is an error listing the known ones', () => {
    expect(() => params(defaults, { small: {} }, { env: { BST_PRESET: 'tiny' }, print: false })).toThrow(
      'BST_PRESET="tiny" is unknown here; presets: small',
    );
  });

  test('prints each value and its source', () => {
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(l));
    try {
      params({ seqLen: 10, epochs: 5 }, {}, { env: { BST_EPOCHS: '2' } });
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(['seqLen = 10   (cell)', 'epochs = 2   (env BST_EPOCHS)']);
  });

  test("interactive: the cell's values win over BST_PRESET and BST_<KEY>, and the printout says which were not applied", () => {
    const env = { BST_PRESET: 'small', BST_EPOCHS: '2', BST_SEQ_LEN: 'not even a number' };
    const presets = { small: { epochs: 1 } };
    const r = resolveParams({ seqLen: 10, epochs: 5 }, presets, { env, mode: 'interactive' });
    expect(r.values).toEqual({ seqLen: 10, epochs: 5 });
    expect(r.sources).toEqual({ seqLen: 'cell', epochs: 'cell' });
    expect(r.ignored).toEqual(['BST_PRESET=small', 'BST_SEQ_LEN=not even a number', 'BST_EPOCHS=2']);
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(l));
    try {
      expect(params({ seqLen: 10, epochs: 5 }, presets, { env, mode: 'interactive' })).toEqual({
        seqLen: 10,
        epochs: 5,
      });
    } finally {
      spy.mockRestore();
    }
    expect(lines[1]).toBe('epochs = 5   (cell)');
    expect(lines[2]).toMatch(
      /^interactive session: the cell's values win; not applied: BST_PRESET=small, BST_SEQ_LEN=not even a number, BST_EPOCHS=2/,
    );
  });

  test("headless: preset then variables, each value's source named", () => {
    const env = { BST_PRESET: 'small', BST_EPOCHS: '2' };
    const r = resolveParams(
      { seqLen: 10, epochs: 5, batchSize: 256 },
      { small: { epochs: 1, batchSize: 64 } },
      { env, mode: 'headless' },
    );
    expect(r.values).toEqual({ seqLen: 10, epochs: 2, batchSize: 64 });
    expect(r.sources).toEqual({ seqLen: 'cell', epochs: 'env BST_EPOCHS', batchSize: 'preset small' });
    expect(r.ignored).toEqual([]);
  });

  test('run mode: BST_HEADLESS=1 forces headless; outside a notebook kernel it is headless anyway', () => {
    expect(runMode({ BST_HEADLESS: '1' })).toBe('headless');
    expect(runMode({ BST_HEADLESS: 'true' })).toBe('headless');
    expect(runMode({})).toBe('headless'); // jest is not a tslab kernel
  });
});

import {
  defaultConfig,
  resolveConfig,
  parseOverrides,
  modelWidth,
  ProgressBar,
  formatDuration,
  auc,
  regressionMetrics,
} from '../../lib/model';
import { ConfigError } from '../../lib/util/errors';

describe('config', () => {
  test('paper defaults and a width divisible by the heads', () => {
    const c = defaultConfig();
    expect([c.numBlocks, c.numHeads, c.dropout, c.mlpUnits, c.optimizer]).toEqual([
      1,
      8,
      0.2,
      [1024, 512, 256],
      'adam',
    ]);
    expect(modelWidth(c) % c.numHeads).toBe(0);
    expect(resolveConfig()).toEqual(c);
  });

  test('bad values raise ConfigErrors naming key and value', () => {
    expect(() => resolveConfig({ embedDim: 5 })).toThrow(
      /numHeads=8: must divide the transformer width 21 = embedDim 5/,
    );
    expect(() => resolveConfig({ dropout: 1.5 })).toThrow(/dropout=1.5/);
    expect(() => resolveConfig({ positionKind: 'rope' as any })).toThrow(/positionKind="rope": must be one of/);
    expect(() => resolveConfig({ embedDimm: 3 } as any)).toThrow(/unknown config key 'embedDimm'/);
    expect(() => resolveConfig({ mlpUnits: [8, 0] })).toThrow(ConfigError);
    expect(() => resolveConfig({ seqLen: 0 })).toThrow(/seqLen=0/);
    expect(resolveConfig({ seqLen: 1 }).seqLen).toBe(1); // the no-history model
  });

  test('parseOverrides', () => {
    expect(
      parseOverrides('numHeads=4, mlpUnits=64/32,useUserId=false,task=like,outputBias=null,learningRate=1e-2'),
    ).toEqual({
      numHeads: 4,
      mlpUnits: [64, 32],
      useUserId: false,
      task: 'like',
      outputBias: null,
      learningRate: 0.01,
    });
    expect(parseOverrides('')).toEqual({});
    expect(() => parseOverrides('heads=4')).toThrow(/unknown config key 'heads'/);
    expect(() => parseOverrides('numHeads=four')).toThrow(/numHeads="four": must be a number/);
    expect(() => parseOverrides('useGenres=yes')).toThrow(/useGenres/);
    expect(() => parseOverrides('numHeads')).toThrow(/not key=value/);
  });
});

describe('metrics', () => {
  test('MAE, RMSE, MSE are what they say', () => {
    const m = regressionMetrics([1, 2, 3, 4], [1, 3, 3, 6]);
    expect(m).toEqual({ n: 4, mse: (0 + 1 + 0 + 4) / 4, mae: 3 / 4, rmse: Math.sqrt(5 / 4), within05: 0.5 });
  });
  test('AUC with ties', () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75);
    expect(auc([0.5, 0.5], [0, 1])).toBeCloseTo(0.5);
    expect(auc([0.2, 0.3], [1, 1])).toBeNaN();
  });
});

describe('progress bar', () => {
  test('non-TTY prints a line every 10% and a final line, no \\r', () => {
    const out: string[] = [];
    let t = 0;
    const bar = new ProgressBar({
      total: 1000,
      write: (s) => out.push(s),
      isTTY: false,
      now: () => t,
      label: 'epoch 1',
    });
    for (let i = 1; i <= 100; i++) {
      t += 10;
      bar.update(i * 10);
    }
    bar.finish();
    expect(out.join('')).not.toContain('\r');
    expect(out.length).toBe(10); // 10%, 20%, ..., 90% + final
    expect(out[out.length - 1]).toMatch(/epoch 1 \[#{20}\] 100% 1000\/1000 1000 samples\/s 0:01 elapsed/);
    expect(out[0]).toMatch(/ 10% 100\/1000 1000 samples\/s ETA 0:01/);
  });
  test('non-TTY also prints every few seconds when the total is unknown', () => {
    const out: string[] = [];
    let t = 0;
    const bar = new ProgressBar({ write: (s) => out.push(s), isTTY: false, now: () => t, everySeconds: 5 });
    for (let i = 1; i <= 20; i++) {
      t += 1000;
      bar.update(i);
    }
    expect(out.length).toBe(4);
  });
  test('TTY redraws with \\r, throttled', () => {
    const out: string[] = [];
    let t = 0;
    const bar = new ProgressBar({ total: 100, write: (s) => out.push(s), isTTY: true, now: () => t, redrawMs: 100 });
    for (let i = 1; i <= 100; i++) {
      t += 10;
      bar.update(i);
    }
    bar.finish();
    expect(out.every((s) => s.startsWith('\r'))).toBe(true);
    expect(out.length).toBeLessThanOrEqual(12);
    expect(out[out.length - 1].endsWith('\n')).toBe(true);
    expect(formatDuration(3725)).toBe('1:02:05');
  });
});

/** The up-front training memory estimate: terms scale with the config, and a config that cannot fit is refused. */
import { defaultConfig, resolveConfig } from '../../lib/model/config';
import { checkTrainingMemory, countParams, estimateTrainingMemory } from '../../lib/model/memory';
import { buildBst } from '../../lib/model/build';
import { WASM_HEAP_LIMIT_BYTES } from '../../lib/kernels';
import { ConfigError } from '../../lib/util/errors';
import { tinySizes } from '../../lib/model/testing';

const ML100K = {
  numUsers: 944,
  numItems: 1683,
  numGenres: 19,
  numYears: 72,
  numGenders: 3,
  numAges: 8,
  numOccupations: 22,
  numZips: 796,
};

describe('training memory estimate', () => {
  test('countParams equals the weights of the built model', () => {
    for (const over of [
      {},
      { positionKind: 'time' as const, numBlocks: 2, mlpUnits: [32, 16] },
      { useDemographics: false, useHistoryRatings: false, seqLen: 5 },
    ]) {
      const c = resolveConfig({ embedDim: 8, posDim: 4, ratingDim: 4, numHeads: 2, mlpUnits: [16], ...over });
      const model = buildBst(c, tinySizes());
      expect(countParams(c, tinySizes())).toBe(model.net.countParams());
      model.net.dispose();
    }
  });

  test('attention scores grow with L^2 and dominate long sequences; batch scales activations linearly', () => {
    const base = defaultConfig();
    const a = estimateTrainingMemory({ ...base, seqLen: 8 }, ML100K);
    const b = estimateTrainingMemory({ ...base, seqLen: 256, batchSize: 32 }, ML100K);
    expect(a.dominant).toBe('activations');
    expect(b.dominant).toBe('attentionScores');
    const l2 = estimateTrainingMemory({ ...base, seqLen: 16 }, ML100K);
    expect(l2.terms.attentionScores / a.terms.attentionScores).toBeCloseTo(4, 6);
    const b2 = estimateTrainingMemory({ ...base, batchSize: 512 }, ML100K);
    expect(b2.terms.activations / a.terms.activations).toBeCloseTo(2, 6);
    expect(b2.terms.weights).toBe(a.terms.weights);
  });

  test('train --seq-len 1000 is refused up front with the numbers and a config that fits; the default passes', () => {
    const c = { ...defaultConfig(), seqLen: 1000 };
    let err: unknown;
    try {
      checkTrainingMemory(c, ML100K, { limitBytes: WASM_HEAP_LIMIT_BYTES, what: 'wasm heap limit' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/batchSize=256, seqLen=1000: training needs an estimated \d+\.\d MB of heap/);
    expect(msg).toContain('wasm heap limit of 4096.0 MB');
    expect(msg).toContain('the largest term is attentionScores');
    const fit = /batchSize=(\d+) would fit/.exec(msg);
    expect(fit).not.toBeNull();
    expect(estimateTrainingMemory({ ...c, batchSize: Number(fit![1]) }, ML100K).heapBytes).toBeLessThanOrEqual(
      WASM_HEAP_LIMIT_BYTES,
    );
    expect(checkTrainingMemory(defaultConfig(), ML100K, { limitBytes: WASM_HEAP_LIMIT_BYTES }).heapBytes).toBeLessThan(
      WASM_HEAP_LIMIT_BYTES / 10,
    );
  });
});

/** lib/model/parts.ts: the BST's factored parts by role, with widths from the config and clear errors by name. */
import * as tf from '@tensorflow/tfjs';
import { buildBst, BstModel } from '../../lib/model/build';
import { BST_LAYERS, bstParts, headInputWidths, itemEmbeddingWeights } from '../../lib/model/parts';
import { tinySizes } from '../../lib/model/testing';
import { ConfigError } from '../../lib/util/errors';
import { tinyConfig, useCpu } from './helpers';

beforeAll(useCpu);

describe('bstParts', () => {
  test('every part has the width the config and vocabularies give, in feature order', () => {
    const sizes = tinySizes();
    const model = buildBst(tinyConfig(), sizes);
    const p = bstParts(model);
    const c = model.config;
    expect(p.itemEmbedding.shape).toEqual([sizes.numItems, c.embedDim]);
    expect(p.blocks.map((b) => b.name)).toEqual(['transformer_0']);
    expect(p.userEmbeddings.map((u) => [u.feature, ...u.table.shape])).toEqual([
      ['userIdx', sizes.numUsers, c.userDim],
      ['gender', sizes.numGenders, c.demoDim],
      ['age', sizes.numAges, c.demoDim],
      ['occupation', sizes.numOccupations, c.demoDim],
      ['zip', sizes.numZips, c.demoDim],
    ]);
    expect(p.genreProjection!.kernel.shape).toEqual([sizes.numGenres, c.genreDim]);
    expect(p.yearEmbedding!.shape).toEqual([sizes.numYears, c.yearDim]);
    expect(p.headInput).toEqual({ sequence: 5 * 8, user: 3 + 4 * 2, item: 3 + 2 });
    expect(p.mlp.map((d) => d.kernel.shape)).toEqual([
      [40 + 11 + 5, 16],
      [16, 8],
    ]);
    expect(p.output.kernel.shape).toEqual([8, 1]);
    // the parts are the model's own weights, not copies
    expect(itemEmbeddingWeights(model)).toBe(model.net.getLayer(BST_LAYERS.itemEmbedding).getWeights()[0]);
  });

  test('unused features are null or empty; the target-slot head input is D wide', () => {
    const model = buildBst(
      tinyConfig({
        useUserId: false,
        useDemographics: false,
        useGenres: false,
        useYear: false,
        sequenceOutput: 'target',
      }),
      tinySizes(),
    );
    const p = bstParts(model);
    expect([p.userEmbeddings, p.genreProjection, p.yearEmbedding]).toEqual([[], null, null]);
    expect(headInputWidths(model)).toEqual({ sequence: 8, user: 0, item: 0 });
    expect(p.mlp[0].kernel.shape[0]).toBe(8);
  });

  test('a network without a named layer fails with the layer name and the layers it has', () => {
    const model = buildBst(tinyConfig(), tinySizes());
    const renamed: BstModel = {
      ...model,
      net: {
        ...model.net,
        name: 'bst',
        layers: model.net.layers.filter((l) => l.name !== 'mlp_0'),
      } as unknown as tf.LayersModel,
    };
    expect(() => bstParts(renamed)).toThrow(ConfigError);
    expect(() => bstParts(renamed)).toThrow(/no layer 'mlp_0' \(layers: .*item_embedding.*\)/);
    // a config whose widths disagree with the network is caught too
    const wider: BstModel = { ...model, config: { ...model.config, userDim: model.config.userDim + 1 } };
    expect(() => bstParts(wider)).toThrow(
      /'mlp_0' has 56 input rows but the config gives sequence 40 \+ user 12 \+ item 5 = 57/,
    );
  });
});

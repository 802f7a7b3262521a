/** The public barrel (lib/index.ts, what notebooks import) carries the library, not test helpers. */
import * as lib from '../../lib/index';

test('lib/index exports the sample-row helpers but no test fixtures', () => {
  const names = Object.keys(lib);
  for (const helper of ['tinySizes', 'syntheticSamples', 'emptySamples']) expect(names).not.toContain(helper);
  for (const api of [
    'sliceSamples',
    'chunkSamples',
    'takeSamples',
    'concatSamples',
    'bstParts',
    'ratingMetrics',
    'train',
    'runExperiment',
  ])
    expect(names).toContain(api);
});

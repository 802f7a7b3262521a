import * as fs from 'fs';
import * as path from 'path';
import {
  Vocab,
  saveVocabs,
  loadVocabs,
  vocabsToJSON,
  vocabsFromJSON,
  zipPrefix,
  loadMovieLens,
  prepareData,
} from '../../lib/data';
import { tmpDir, writeFiles, ML1M_FILES } from './fixtures';

test('Vocab: 0 is unknown, sorted builder, JSON round trip', () => {
  const v = Vocab.sorted<number>([30, 10, 20, 10]);
  expect(v.values).toEqual([10, 20, 30]);
  expect(v.index(20)).toBe(2);
  expect(v.index(99)).toBe(0);
  expect(v.size).toBe(4);
  expect(Vocab.fromJSON(JSON.parse(JSON.stringify(v))).index(30)).toBe(3);
  expect(() => Vocab.fromJSON({} as any)).toThrow(/not a vocabulary/);
});

test('zip prefixes: numeric zips keep the first n characters, others their first character', () => {
  expect(zipPrefix('55105', 2)).toBe('55');
  expect(zipPrefix('T8H1N', 2)).toBe('T');
  expect(zipPrefix('', 1)).toBe('');
});

test('vocabularies come from training data, save atomically and reload identically', () => {
  const dir = writeFiles(tmpDir(), ML1M_FILES, 'latin1');
  const p = prepareData({ dataset: loadMovieLens({ dir }), seqLen: 3, k: 1, zipPrefixLength: 2 });
  // k=1 with 2 ratings per user: train only; both users and 3 movies known
  expect(p.vocabs.user.values).toEqual([7, 8]);
  expect(p.vocabs.zip.values).toEqual(['02', 'K']);
  expect(p.sizes).toEqual({
    numUsers: 3,
    numItems: 4,
    numGenres: 4,
    numYears: 3,
    numGenders: 3,
    numAges: 3,
    numOccupations: 3,
    numZips: 3,
  });
  const file = path.join(tmpDir(), 'model', 'vocabs.json');
  saveVocabs(file, p.vocabs);
  expect(fs.readdirSync(path.dirname(file))).toEqual(['vocabs.json']);
  const back = loadVocabs(file);
  expect(vocabsToJSON(back)).toEqual(vocabsToJSON(p.vocabs));
  expect(() => vocabsFromJSON({ version: 2 } as any)).toThrow(/not a vocabs file/);
  // reusing saved vocabularies gives the same encoding
  const again = prepareData({ dataset: loadMovieLens({ dir }), seqLen: 3, k: 1, vocabs: back });
  expect(Array.from(again.interactions.item)).toEqual(Array.from(p.interactions.item));
});

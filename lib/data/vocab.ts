/**
 * Vocabularies: value -> index maps where index 0 is padding / unknown and known values take 1..n.
 * Built from training data only; saved and loaded with a model (toJSON/fromJSON, atomic file write).
 */
import { writeJsonAtomic, readJson } from '../util/files';
import { DataError } from '../util/errors';

/** A vocabulary of numbers or strings; `index(v)` is 0 for values never seen. */
export class Vocab<K extends string | number = string | number> {
  readonly values: K[];
  private readonly map: Map<K, number>;

  /** Build from values in the order given (duplicates are ignored). Index i+1 holds values[i]. */
  constructor(values: Iterable<K>) {
    this.values = [];
    this.map = new Map();
    for (const v of values) {
      if (!this.map.has(v)) {
        this.values.push(v);
        this.map.set(v, this.values.length);
      }
    }
  }

  /** Build a vocabulary of the distinct values, sorted (numbers numerically, strings by code point). */
  static sorted<K extends string | number>(values: Iterable<K>): Vocab<K> {
    const s = Array.from(new Set(values));
    s.sort((a, b) =>
      typeof a === 'number' && typeof b === 'number'
        ? a - b
        : String(a) < String(b)
          ? -1
          : String(a) > String(b)
            ? 1
            : 0,
    );
    return new Vocab(s);
  }

  /** Index of `v` (1..n), or 0 when unknown. */
  index(v: K): number {
    return this.map.get(v) ?? 0;
  }

  /** Value at index i (undefined for 0 / out of range). */
  value(i: number): K | undefined {
    return i >= 1 ? this.values[i - 1] : undefined;
  }

  /** Vocabulary size including the padding/unknown slot (values + 1). */
  get size(): number {
    return this.values.length + 1;
  }

  /** Plain JSON form. */
  toJSON(): { values: K[] } {
    return { values: this.values.slice() };
  }

  /** Rebuild from `toJSON()` output. */
  static fromJSON<K extends string | number>(json: { values: K[] }): Vocab<K> {
    if (!json || !Array.isArray(json.values))
      throw new DataError(`not a vocabulary: ${JSON.stringify(json)?.slice(0, 100)}`);
    return new Vocab(json.values);
  }
}

/** Every vocabulary the pipeline builds. */
export interface Vocabs {
  user: Vocab<number>;
  item: Vocab<number>;
  /** genre names; genre g occupies multi-hot column g-1 (no padding column) */
  genre: Vocab<string>;
  year: Vocab<number>;
  gender: Vocab<string>;
  age: Vocab<number>;
  occupation: Vocab<string>;
  zip: Vocab<string>;
  /** characters of the zip code kept as the zip feature */
  zipPrefixLength: number;
}

const VOCAB_KEYS = ['user', 'item', 'genre', 'year', 'gender', 'age', 'occupation', 'zip'] as const;

/** JSON form of `Vocabs`. */
export interface VocabsJSON {
  version: 1;
  zipPrefixLength: number;
  vocabs: Record<(typeof VOCAB_KEYS)[number], { values: Array<string | number> }>;
}

/** Serialise all vocabularies. */
export function vocabsToJSON(v: Vocabs): VocabsJSON {
  const vocabs = {} as VocabsJSON['vocabs'];
  for (const k of VOCAB_KEYS) vocabs[k] = v[k].toJSON();
  return { version: 1, zipPrefixLength: v.zipPrefixLength, vocabs };
}

/** Rebuild vocabularies from `vocabsToJSON` output. */
export function vocabsFromJSON(json: VocabsJSON): Vocabs {
  if (!json || json.version !== 1 || !json.vocabs) throw new DataError(`not a vocabs file (version ${json?.version})`);
  const out: any = { zipPrefixLength: json.zipPrefixLength };
  for (const k of VOCAB_KEYS) {
    if (!json.vocabs[k]) throw new DataError(`vocabs file lacks the "${k}" vocabulary`);
    out[k] = Vocab.fromJSON(json.vocabs[k]);
  }
  return out as Vocabs;
}

/** Save vocabularies to a JSON file atomically (temp file, then rename). */
export function saveVocabs(file: string, v: Vocabs): void {
  writeJsonAtomic(file, vocabsToJSON(v));
}

/** Load vocabularies saved by `saveVocabs`. */
export function loadVocabs(file: string): Vocabs {
  return vocabsFromJSON(readJson<VocabsJSON>(file));
}

/** Zip feature value: the first `prefixLength` characters of a numeric zip; a non-numeric zip maps to its first character. */
export function zipPrefix(zip: string, prefixLength: number): string {
  const z = zip.trim();
  if (z === '') return '';
  return /^\d/.test(z) ? z.slice(0, prefixLength) : z[0].toUpperCase();
}

/** Movie metadata by item index (title, year, genres), for showing recommendations in plain words. */
import { Dataset, genreList, PreparedData } from '../data/index';
import { DataError } from '../util/errors';

/** Movie metadata indexed by item index (index 0 = unknown movie: empty strings). */
export interface MovieCatalog {
  /** [numItems] MovieLens movie id (0 at index 0) */
  movieId: Int32Array;
  /** [numItems] title as in the movies file (with the year in brackets) */
  title: string[];
  /** [numItems] release year (0 = unknown) */
  year: Int32Array;
  /** [numItems] genre names */
  genres: string[][];
}

/** Build the catalogue of a prepared split's item vocabulary from the dataset's movies table. */
export function movieCatalog(dataset: Dataset, data: PreparedData): MovieCatalog {
  const n = data.sizes.numItems;
  const cat: MovieCatalog = {
    movieId: new Int32Array(n),
    title: new Array(n).fill(''),
    year: new Int32Array(n),
    genres: Array.from({ length: n }, () => []),
  };
  const ids = dataset.movies.array('movieId') as ArrayLike<number>;
  const titles = dataset.movies.array('title') as ArrayLike<string>;
  const years = dataset.movies.array('year') as ArrayLike<number>;
  const genres = dataset.movies.array('genres') as ArrayLike<string>;
  for (let r = 0; r < ids.length; r++) {
    const i = data.vocabs.item.index(ids[r]);
    if (i <= 0 || i >= n) continue;
    cat.title[i] = titles[r] == null ? '' : String(titles[r]);
    cat.year[i] = Number(years[r]) || 0;
    cat.genres[i] = genreList(genres[r] == null ? '' : String(genres[r]));
  }
  for (let i = 1; i < n; i++) {
    const id = data.vocabs.item.value(i);
    if (id === undefined)
      throw new DataError(`item index ${i} has no movie id in the vocabulary (size ${data.vocabs.item.size})`);
    cat.movieId[i] = id;
    if (cat.title[i] === '') cat.title[i] = `movie ${id}`; // rated but missing from the movies file
  }
  return cat;
}

/** A catalogue made of the vocabulary alone ("movie <id>", genres from the feature table), for synthetic data. */
export function vocabCatalog(data: PreparedData): MovieCatalog {
  const n = data.sizes.numItems;
  const G = data.sizes.numGenres;
  const cat: MovieCatalog = {
    movieId: new Int32Array(n),
    title: new Array(n).fill(''),
    year: new Int32Array(n),
    genres: Array.from({ length: n }, () => []),
  };
  for (let i = 1; i < n; i++) {
    const id = data.vocabs.item.value(i) ?? 0;
    cat.movieId[i] = id;
    cat.title[i] = `movie ${id}`;
    cat.year[i] = data.vocabs.year.value(data.features.itemYear[i]) ?? 0;
    for (let g = 0; g < G; g++)
      if (data.features.itemGenres[i * G + g] > 0) cat.genres[i].push(data.vocabs.genre.value(g + 1) ?? `genre ${g}`);
  }
  return cat;
}

/**
 * The recommendation service through fastify's inject, on a tiny BST trained on real MovieLens-100k in the
 * setup: every endpoint's happy path, a table of bad inputs (each a 4xx naming the field and the value, the
 * service still answering afterwards), reloads under concurrent requests, and lists that never hold a movie the
 * user rated or excluded.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadRun } from '../../lib/app/experiment';
import { intraListDiversity, movieCatalog, recommend } from '../../lib/recommend/index';
import { loadServingModel, ServingModel } from '../../lib/app/serve/model';
import { RecommendResponse } from '../../lib/app/serve/recommender';
import { buildServer, ServeApp } from '../../lib/app/serve/server';
import { DATA_DIR, trainTinyRun } from './helpers';

let runDir: string;
let app: ServeApp;
const loads: number[] = [];

/** MovieLens-100k user 1's rated movie ids (u.data: user \t movie \t rating \t time). */
function ratedBy(user: number): Set<number> {
  const lines = fs
    .readFileSync(path.join(DATA_DIR, 'ml-100k', 'u.data'), 'utf8')
    .trim()
    .split('\n');
  return new Set(
    lines
      .map((l) => l.split('\t').map(Number))
      .filter((r) => r[0] === user)
      .map((r) => r[1]),
  );
}

beforeAll(async () => {
  runDir = await trainTinyRun();
  app = await buildServer({
    load: (generation) => {
      loads.push(generation);
      return loadServingModel(runDir, { dataDir: DATA_DIR, generation });
    },
    bodyLimit: 16 * 1024,
    webRoot: null,
  });
});
afterAll(async () => {
  await app?.close();
  if (runDir) fs.rmSync(path.dirname(runDir), { recursive: true, force: true });
});

const post = (body: unknown) => app.inject({ method: 'POST', url: '/recommend', payload: body as object });

test("GET /healthz and GET /model: the run folder's dataset, config and metrics", async () => {
  const h = await app.inject('/healthz');
  expect(h.statusCode).toBe(200);
  expect(h.json()).toMatchObject({ ok: true });
  const m = (await app.inject('/model')).json();
  const recorded = JSON.parse(fs.readFileSync(path.join(runDir, 'metrics.json'), 'utf8'));
  expect(m.dataset).toBe('ml-100k');
  expect(m.config).toEqual(recorded.config);
  expect(m.metrics.test).toEqual(recorded.test);
  expect(m.movies).toBeGreaterThan(1600);
});

test('POST /recommend for a known user: the same list as lib/recommend, nothing rated, exclusions respected', async () => {
  const r = await post({ userId: 1, k: 10 });
  expect(r.statusCode).toBe(200);
  const body = r.json() as RecommendResponse;
  expect(body).toMatchObject({ userId: 1, anonymous: false, mode: 'exact' });
  expect(body.items).toHaveLength(10);
  const rated = ratedBy(1);
  for (const x of body.items) {
    expect(rated.has(x.movieId)).toBe(false);
    expect(x.explanation).toMatch(/^(because you rated .+|no single history item matters much)$/);
    expect(Number.isFinite(x.score)).toBe(true);
  }
  // the service ranks exactly as lib/recommend's recommend() does
  const run = await loadRun(runDir, { dataDir: DATA_DIR });
  const direct = recommend({
    model: run.model,
    data: run.data,
    catalog: movieCatalog(run.dataset, run.data),
    userId: 1,
    k: 10,
  });
  expect(body.items.map((x) => x.movieId)).toEqual(direct.items.map((x) => x.movieId));
  run.model.net.dispose();
  // "not interested" in the top 3: they leave, the rest moves up
  const top3 = body.items.slice(0, 3).map((x) => x.movieId);
  const again = (await post({ userId: 1, k: 10, exclude: top3 })).json() as RecommendResponse;
  expect(again.items.map((x) => x.movieId).slice(0, 7)).toEqual(body.items.slice(3).map((x) => x.movieId));
  for (const x of again.items) expect(top3).not.toContain(x.movieId);
  // the same history again (a page's slider move): scores from the cache, the same ranking
  const cachedAgain = (await post({ userId: 1, k: 10 })).json() as RecommendResponse;
  expect(body.cached).toBe(false);
  expect(cachedAgain.cached).toBe(true);
  expect(cachedAgain.items).toEqual(body.items);
  // two-stage mode answers too
  const two = (await post({ userId: 1, k: 5, mode: 'two-stage' })).json() as RecommendResponse;
  expect(two.mode).toBe('two-stage');
  expect(two.scored).toBeLessThan(two.candidates);
});

test('POST /recommend for an anonymous history: no pick or exclusion comes back; explanations name picks; diversity spreads genres', async () => {
  const picks = [50, 172, 181]; // Star Wars, Empire Strikes Back, Return of the Jedi
  const exclude = [1, 98, 174];
  const r = await post({ movies: picks, ratings: [5, 5, 4], k: 10, exclude });
  expect(r.statusCode).toBe(200);
  const body = r.json() as RecommendResponse;
  expect(body).toMatchObject({ userId: null, anonymous: true });
  expect(body.items).toHaveLength(10);
  for (const x of body.items) {
    expect([...picks, ...exclude]).not.toContain(x.movieId);
    for (const b of x.because) expect(picks).toContain(b.movieId);
  }
  expect(body.candidates).toBe(1677 - picks.length - exclude.length);
  const plain = (await post({ movies: picks, k: 10 })).json() as RecommendResponse;
  const diverse = (await post({ movies: picks, k: 10, diversity: 0.2 })).json() as RecommendResponse;
  const spread = (l: RecommendResponse) => new Set(l.items.flatMap((x) => x.genres)).size;
  expect(diverse.items.map((x) => x.movieId)).not.toEqual(plain.items.map((x) => x.movieId));
  expect(spread(diverse)).toBeGreaterThanOrEqual(spread(plain));
  // intra-list diversity on the model's own genre table: MMR raises it
  const run = await loadRun(runDir, { dataDir: DATA_DIR });
  const idx = (l: RecommendResponse) => l.items.map((x) => run.data.vocabs.item.index(x.movieId));
  const g = { itemGenres: run.data.features.itemGenres, numGenres: run.data.sizes.numGenres };
  expect(intraListDiversity(idx(diverse), g)).toBeGreaterThan(intraListDiversity(idx(plain), g));
  run.model.net.dispose();
  // the ratings matter: the same picks rated 1 give another list
  const disliked = (await post({ movies: picks, ratings: [1, 1, 1], k: 10 })).json() as RecommendResponse;
  expect(disliked.items.map((x) => x.score)).not.toEqual(plain.items.map((x) => x.score));
});

test('GET /movies?query= and GET /movies/:id/similar', async () => {
  const s = (await app.inject('/movies?query=star%20WARS&limit=5')).json();
  expect(s.movies[0]).toMatchObject({ movieId: 50, title: 'Star Wars (1977)', year: 1977 });
  for (const m of s.movies) expect(m.title.toLowerCase()).toMatch(/star.*wars|wars.*star/);
  const many = (await app.inject('/movies?query=the&limit=7')).json();
  expect(many.movies).toHaveLength(7);
  for (let i = 1; i < 7; i++) expect(many.movies[i - 1].ratings).toBeGreaterThanOrEqual(many.movies[i].ratings); // most rated first
  const sim = (await app.inject('/movies/50/similar?k=5')).json();
  expect(sim.movie.movieId).toBe(50);
  expect(sim.similar).toHaveLength(5);
  for (const x of sim.similar) expect(x.movieId).not.toBe(50);
  for (let i = 1; i < 5; i++) expect(sim.similar[i - 1].similarity).toBeGreaterThanOrEqual(sim.similar[i].similarity);
  expect((await app.inject('/movies/50')).json().title).toBe('Star Wars (1977)');
});

test('bad inputs: each gets a 4xx naming the field and the value; the service keeps answering', async () => {
  const cases: { name: string; send: () => ReturnType<typeof post>; status: number; says: RegExp[] }[] = [
    { name: 'empty body', send: () => post({}), status: 400, says: [/userId/, /movies/] },
    { name: 'both userId and movies', send: () => post({ userId: 1, movies: [50] }), status: 400, says: [/not both/] },
    { name: 'empty movies', send: () => post({ movies: [] }), status: 400, says: [/body\.movies/, /got \[\]/] },
    {
      name: 'movie id not a number',
      send: () => post({ movies: [50, 'x'] }),
      status: 400,
      says: [/body\.movies\[1\]/, /"x"/],
    },
    { name: 'negative k', send: () => post({ movies: [50], k: -3 }), status: 400, says: [/body\.k/, /-3/] },
    { name: 'fractional k', send: () => post({ movies: [50], k: 1.5 }), status: 400, says: [/body\.k/, /1\.5/] },
    { name: 'huge k', send: () => post({ movies: [50], k: 100000 }), status: 400, says: [/body\.k/, /100000/] },
    {
      name: 'diversity > 1',
      send: () => post({ movies: [50], diversity: 2 }),
      status: 400,
      says: [/body\.diversity/, /got 2/],
    },
    {
      name: 'unknown mode',
      send: () => post({ movies: [50], mode: 'fast' }),
      status: 400,
      says: [/body\.mode/, /"fast"/],
    },
    {
      name: 'rating 6',
      send: () => post({ movies: [50], ratings: [6] }),
      status: 400,
      says: [/body\.ratings\[0\]/, /got 6/],
    },
    {
      name: 'ratings of another length',
      send: () => post({ movies: [50, 172], ratings: [4] }),
      status: 400,
      says: [/ratings/, /1 ratings for 2 movies/],
    },
    {
      name: 'ratings without movies',
      send: () => post({ userId: 1, ratings: [4] }),
      status: 400,
      says: [/body\.ratings/],
    },
    {
      name: 'unknown field',
      send: () => post({ movies: [50], kk: 3 }),
      status: 400,
      says: [/body\.kk/, /unknown field/, /3/],
    },
    { name: 'userId a string', send: () => post({ userId: 'abc' }), status: 400, says: [/body\.userId/, /"abc"/] },
    { name: 'body not an object', send: () => post([1, 2]), status: 400, says: [/body/, /\[1,2\]/] },
    { name: 'unknown user', send: () => post({ userId: 999999 }), status: 404, says: [/userId/, /999999/] },
    { name: 'unknown movie', send: () => post({ movies: [50, 99999] }), status: 422, says: [/movies\[1\]/, /99999/] },
    {
      name: 'unknown excluded movie',
      send: () => post({ movies: [50], exclude: [77777] }),
      status: 422,
      says: [/exclude\[0\]/, /77777/],
    },
    {
      name: 'malformed JSON',
      send: () =>
        app.inject({
          method: 'POST',
          url: '/recommend',
          headers: { 'content-type': 'application/json' },
          payload: '{"movies": [50',
        }),
      status: 400,
      says: [/JSON/],
    },
    {
      name: 'not JSON',
      send: () =>
        app.inject({ method: 'POST', url: '/recommend', headers: { 'content-type': 'text/plain' }, payload: 'hello' }),
      status: 400,
      says: [/body: must be object/, /"hello"/],
    },
    {
      name: 'unsupported type',
      send: () =>
        app.inject({
          method: 'POST',
          url: '/recommend',
          headers: { 'content-type': 'application/xml' },
          payload: '<a/>',
        }),
      status: 415,
      says: [/application\/xml/],
    },
    {
      name: 'huge body',
      send: () => post({ movies: [50], exclude: Array.from({ length: 4000 }, (_, i) => i + 1) }),
      status: 413,
      says: [/body: \d+ bytes is too large/, /limit 16384/],
    },
    {
      name: 'similar: id not a number',
      send: () => app.inject('/movies/abc/similar'),
      status: 400,
      says: [/params\.id/, /"abc"/],
    },
    {
      name: 'similar: unknown id',
      send: () => app.inject('/movies/99999/similar'),
      status: 404,
      says: [/id/, /99999/],
    },
    {
      name: 'similar: k 0',
      send: () => app.inject('/movies/50/similar?k=0'),
      status: 400,
      says: [/querystring\.k/, /got 0/],
    },
    {
      name: 'search: limit -1',
      send: () => app.inject('/movies?query=a&limit=-1'),
      status: 400,
      says: [/querystring\.limit/, /-1/],
    },
    {
      name: 'search: query too long',
      send: () => app.inject(`/movies?query=${'a'.repeat(300)}`),
      status: 400,
      says: [/querystring\.query/, /aaaa/],
    },
    { name: 'unknown route', send: () => app.inject('/nope'), status: 404, says: [/GET \/nope/] },
  ];
  for (const c of cases) {
    const r = await c.send();
    const msg = String(r.json().message);
    expect({ name: c.name, status: r.statusCode }).toEqual({ name: c.name, status: c.status });
    for (const s of c.says)
      expect({ name: c.name, msg, matches: s.test(msg) }).toEqual({ name: c.name, msg, matches: true });
    expect((await app.inject('/healthz')).statusCode).toBe(200);
  }
});

test('POST /admin/reload under concurrent requests: none dropped, the new model serves, the old one is disposed', async () => {
  const before = (await app.inject('/healthz')).json().generation;
  const old = app.current();
  const disposed = jest.spyOn(old, 'dispose');
  const reqs = Array.from({ length: 24 }, (_, i) =>
    post(i % 2 ? { userId: 1 + i, k: 5 } : { movies: [50, 172, 181], k: 5, exclude: [i + 1] }),
  );
  const reload = app.inject({ method: 'POST', url: '/admin/reload' });
  const more = Array.from({ length: 24 }, (_, i) => post({ movies: [1 + i], k: 3 }));
  const all = await Promise.all([...reqs, reload, ...more]);
  for (const r of all) expect(r.statusCode).toBe(200);
  expect(all[24].json()).toMatchObject({ reloaded: true, generation: before + 1 });
  expect((await app.inject('/healthz')).json().generation).toBe(before + 1);
  expect(app.current()).not.toBe(old);
  expect(disposed).toHaveBeenCalledTimes(1);
  expect(loads[loads.length - 1]).toBe(before + 1);
  // the new model answers like the old one did (same run folder)
  expect((await post({ userId: 1, k: 10 })).statusCode).toBe(200);
});

test('reload swap: a request in flight finishes on the old model, the next one uses the new; a failed load keeps the old', async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const disposed: number[] = [];
  const fake = (g: number): ServingModel => ({
    info: { generation: g } as ServingModel['info'],
    recommender: {
      recommend: async () => {
        if (g === 1) await gate; // generation 1 answers only once the gate opens
        return {
          userId: null,
          anonymous: true,
          mode: 'exact',
          candidates: g,
          scored: g,
          diversity: 1,
          items: [],
          scoreMs: 0,
          cached: false,
        };
      },
    },
    search: () => [],
    movie: () => {
      throw new Error('none');
    },
    similar: () => [],
    dispose: () => void disposed.push(g),
  });
  let fail = false;
  const swap = await buildServer({
    load: async (g) => {
      if (fail) throw new Error('checkpoint missing');
      return fake(g);
    },
    webRoot: null,
  });
  try {
    const slow = swap.inject({ method: 'POST', url: '/recommend', payload: { movies: [1] } });
    await new Promise((r) => setTimeout(r, 20)); // the request is now inside generation 1's recommend
    const re = await swap.inject({ method: 'POST', url: '/admin/reload' });
    expect(re.json().generation).toBe(2);
    const fast = await swap.inject({ method: 'POST', url: '/recommend', payload: { movies: [1] } });
    expect(fast.json().candidates).toBe(2);
    expect(disposed).toEqual([]); // generation 1 still has a request in flight
    open();
    expect((await slow).json().candidates).toBe(1);
    expect(disposed).toEqual([1]);
    fail = true;
    const bad = await swap.inject({ method: 'POST', url: '/admin/reload' });
    expect(bad.statusCode).toBe(500);
    expect(bad.json().message).toMatch(/checkpoint missing.*still serving generation 2/);
    expect((await swap.inject({ method: 'POST', url: '/recommend', payload: { movies: [1] } })).json().candidates).toBe(
      2,
    );
  } finally {
    await swap.close();
  }
});

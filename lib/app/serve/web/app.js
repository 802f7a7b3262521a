// The page: search and pick movies, see a top-10 as cards, a diversity slider, "not interested" buttons.
// Served by `bst serve` it calls the HTTP API; in a static export (`bst export-web`) engine.js defines
// window.BST_ENGINE, which runs the model in the browser with the same request and response shapes.
'use strict';
(function () {
  const K = 10;
  const $ = (id) => document.getElementById(id);
  const state = { picks: [], exclude: [], diversity: 0, seq: 0 };

  async function call(method, url, body) {
    const r = await fetch(url, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await r.json();
    if (!r.ok) throw new Error(json.message || r.statusText);
    return json;
  }
  const http = {
    name: 'served by bst serve',
    search: (q) => call('GET', `movies?query=${encodeURIComponent(q)}&limit=8`).then((r) => r.movies),
    recommend: (body) => call('POST', 'recommend', body),
  };
  const engine = window.BST_ENGINE || http;
  $('engine').textContent = engine.name;

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of kids) e.append(c);
    return e;
  }

  let searchTimer = 0;
  $('search').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 150);
  });
  async function runSearch() {
    const q = $('search').value.trim();
    const list = $('results');
    if (q.length < 2) return void list.replaceChildren();
    try {
      const movies = await engine.search(q);
      if ($('search').value.trim() !== q) return;
      list.replaceChildren(
        ...movies
          .filter((m) => !state.picks.some((p) => p.movieId === m.movieId))
          .map((m) =>
            el(
              'li',
              {
                tabindex: '0',
                'data-movie': String(m.movieId),
                onclick: () => pick(m),
                onkeydown: (e) => e.key === 'Enter' && pick(m),
              },
              el('span', {}, m.title),
              el('span', { class: 'meta' }, m.genres.join(', ')),
            ),
          ),
      );
    } catch (e) {
      $('status').textContent = `search failed: ${e.message}`;
    }
  }

  function pick(m) {
    state.picks.push(m);
    $('search').value = '';
    $('results').replaceChildren();
    renderPicks();
    refresh();
  }
  function renderPicks() {
    $('picked').replaceChildren(
      ...state.picks.map((m) =>
        el(
          'span',
          { class: 'chip', 'data-movie': String(m.movieId) },
          m.title,
          el(
            'button',
            {
              'aria-label': `remove ${m.title}`,
              onclick: () => {
                state.picks = state.picks.filter((p) => p !== m);
                renderPicks();
                refresh();
              },
            },
            '×',
          ),
        ),
      ),
    );
  }

  $('diversity').addEventListener('input', () => {
    state.diversity = Number($('diversity').value);
    $('diversity-value').textContent = state.diversity.toFixed(1);
    refresh();
  });

  async function refresh() {
    const seq = ++state.seq;
    if (state.picks.length === 0) {
      $('recs').replaceChildren();
      $('status').textContent = 'Pick a movie to start.';
      return;
    }
    $('status').textContent = 'ranking…';
    const t0 = performance.now();
    try {
      const r = await engine.recommend({
        movies: state.picks.map((m) => m.movieId),
        k: K,
        diversity: +(1 - state.diversity).toFixed(2),
        exclude: state.exclude,
      });
      if (seq !== state.seq) return; // a newer request is on its way
      const ms = performance.now() - t0;
      $('recs').replaceChildren(...r.items.map(card));
      $('recs').dataset.seq = String(seq);
      $('status').textContent =
        `${r.items.length} of ${r.candidates} movies, ${r.modeLabel || r.mode} scoring, ${ms.toFixed(0)} ms`;
    } catch (e) {
      if (seq === state.seq) $('status').textContent = `could not rank: ${e.message}`;
    }
  }

  // the picks carry no ratings of the visitor's own: name the picks behind a movie, not their default rating
  function why(x) {
    if (!x.because || x.because.length === 0) return x.explanation || '';
    const names = x.because.map((b) => b.title.replace(/\s*\(\d{4}\)\s*$/, ''));
    return `because you liked ${names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`}`;
  }

  function card(x) {
    const title = x.title.replace(/\s*\(\d{4}\)\s*$/, '');
    return el(
      'li',
      { class: 'card', 'data-movie': String(x.movieId), 'data-genres': x.genres.join('|') },
      el('span', { class: 'rank' }, `#${x.rank} · score ${x.score.toFixed(2)}`),
      el('h2', {}, title, ' ', el('span', { class: 'year' }, x.year ? `(${x.year})` : '')),
      el('div', { class: 'genres' }, ...x.genres.map((g) => el('span', { class: 'genre' }, g))),
      el('p', { class: 'why' }, why(x)),
      el(
        'button',
        {
          class: 'not',
          onclick: () => {
            state.exclude.push(x.movieId);
            refresh();
          },
        },
        'Not interested',
      ),
    );
  }
})();

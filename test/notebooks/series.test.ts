/**
 * The notebook series, executed headless through scripts/run_notebooks.py with the small CI settings on
 * ml-100k (../shared/data, or BST_DATA_DIR), then each HTML export rendered in headless Chromium: every chart
 * must be drawn (plotly's `main-svg` inside each chart div), none may show the "plotly.js not loaded" message,
 * and plotly.js is embedded at most once per notebook.
 *
 * Slow tier (about a minute per notebook on 2 cores): skip with BST_SKIP_NOTEBOOK_TESTS=1. To check outputs
 * that were already produced (CI runs the series once in command 1), set BST_NOTEBOOK_OUT=<folder holding
 * notebooks/ and html/> and the notebooks are not run again.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  CHROMIUM,
  SKIP_NOTEBOOKS,
  chartsInDom,
  chromiumDom,
  runNotebooks,
  seriesNotebooks,
  tmpDir,
  ROOT,
} from './helpers';

const notebooks = seriesNotebooks();
const reuse = process.env.BST_NOTEBOOK_OUT ? path.resolve(process.env.BST_NOTEBOOK_OUT) : undefined;
const suite = SKIP_NOTEBOOKS ? describe.skip : describe;

interface Executed {
  cells: Array<{
    cell_type: string;
    outputs?: Array<{ output_type: string; data?: Record<string, string | string[]> }>;
  }>;
}

function htmlOutputs(nb: Executed): string[] {
  const out: string[] = [];
  for (const c of nb.cells) {
    for (const o of c.outputs ?? []) {
      const h = o.data?.['text/html'];
      if (h !== undefined) out.push(Array.isArray(h) ? h.join('') : h);
    }
  }
  return out;
}

suite('notebook series (BST_PRESET=small, ml-100k)', () => {
  const out = reuse ?? tmpDir('bst-series-');
  afterAll(() => {
    if (!reuse) fs.rmSync(out, { recursive: true, force: true });
  });

  test('the series exists, numbered 01..', () => {
    expect(notebooks[0]).toBe('01_explore.ipynb');
  });

  describe.each(notebooks)('%s', (name) => {
    const base = name.replace(/\.ipynb$/, '');
    let ran = false;

    test(
      'runs without a failing cell',
      () => {
        if (!reuse) {
          const r = runNotebooks([path.join(ROOT, 'notebooks', name)], out);
          if (r.status !== 0) throw new Error(`runner exit ${r.status}\n${r.stderr.slice(-4000)}`);
        }
        ran = true;
        expect(fs.existsSync(path.join(out, 'html', base + '.html'))).toBe(true);
      },
      20 * 60_000,
    );

    test(
      'plotly.js embedded at most once; every chart drawn in headless Chromium',
      () => {
        if (!ran) throw new Error(`${name} did not run`);
        const nb = JSON.parse(fs.readFileSync(path.join(out, 'notebooks', name), 'utf8')) as Executed;
        const html = htmlOutputs(nb);
        const charts = html.filter((h) => h.includes('class="bst-chart"')).length;
        const embeds = html.filter((h) => h.includes('data-bst-plotly="embedded"')).length;
        expect(embeds).toBe(charts > 0 ? 1 : 0);
        if (charts === 0) return;
        expect(fs.existsSync(CHROMIUM)).toBe(true);
        const dom = chromiumDom(path.join(out, 'html', base + '.html'));
        const found = chartsInDom(dom);
        expect(found).toHaveLength(charts);
        expect(found.filter((c) => c.error)).toEqual([]);
        expect(found.filter((c) => !c.drawn)).toEqual([]);
        expect(found.filter((c) => c.placeholder)).toEqual([]);
      },
      5 * 60_000,
    );
  });
});

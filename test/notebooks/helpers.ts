/** Shared helpers of the notebook tests: running the notebook runner and headless Chromium. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';

export const ROOT = path.resolve(__dirname, '../..');
export const PYTHON = process.env.BST_PYTHON || '/usr/bin/python3';
export const CHROMIUM = process.env.BST_CHROMIUM || '/usr/bin/chromium';
export const DATA_DIR = process.env.BST_DATA_DIR || path.resolve(ROOT, '../shared/data');

/** The tier switch: BST_SKIP_NOTEBOOK_TESTS=1 skips the slow notebook runs (on by default). */
export const SKIP_NOTEBOOKS = ['1', 'true', 'yes'].includes((process.env.BST_SKIP_NOTEBOOK_TESTS ?? '').toLowerCase());

/** Notebooks of the series, in order. */
export function seriesNotebooks(): string[] {
  return fs
    .readdirSync(path.join(ROOT, 'notebooks'))
    .filter((f) => /^\d\d_.*\.ipynb$/.test(f))
    .sort();
}

/** A fresh temporary folder. */
export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Run scripts/run_notebooks.py on `notebooks` (paths) with the small CI settings; returns status and output. */
export function runNotebooks(
  notebooks: string[],
  out: string,
  env: Record<string, string> = {},
  timeoutMs = 15 * 60_000,
) {
  // never let a notebook fall back to downloading: tests stay offline
  const release = path.join(env.BST_DATA_DIR ?? DATA_DIR, 'ml-100k', 'u.data');
  if (!fs.existsSync(release)) throw new Error(`${release} not found: set BST_DATA_DIR to the folder holding ml-100k/`);
  const r = spawnSync(PYTHON, [path.join(ROOT, 'scripts', 'run_notebooks.py'), ...notebooks, '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: {
      ...process.env,
      BST_PRESET: 'small',
      BST_DATASET: 'ml-100k',
      BST_DATA_DIR: DATA_DIR,
      BST_BACKEND: process.env.BST_BACKEND || 'wasm',
      ...env,
    },
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** Headless Chromium's DOM of a local HTML file after its scripts ran (virtual time budget in ms). */
export function chromiumDom(file: string, budgetMs = 15000): string {
  const profile = tmpDir('bst-chromium-');
  try {
    const r = spawnSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        `--virtual-time-budget=${budgetMs}`,
        '--dump-dom',
        'file://' + path.resolve(file),
      ],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 * 1024 * 1024 },
    );
    if (r.status !== 0) throw new Error(`chromium exited ${r.status}: ${(r.stderr ?? '').slice(-2000)}`);
    return r.stdout;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** Chart divs of a DOM dump and, for each, whether plotly drew an SVG in it / wrote its error message. */
export function chartsInDom(dom: string): Array<{ id: string; drawn: boolean; error: boolean; placeholder: boolean }> {
  const starts = [...dom.matchAll(/<div id="([^"]+)" class="bst-chart[^"]*"/g)];
  return starts.map((m, i) => {
    // the chart's markup runs until its figure JSON script
    const end = dom.indexOf(`id="${m[1]}-fig"`, m.index);
    const body = dom.slice(m.index, end > 0 ? end : i + 1 < starts.length ? starts[i + 1].index : undefined);
    return {
      id: m[1],
      drawn: body.includes('class="main-svg"'),
      error: body.includes('class="bst-chart-error"'),
      placeholder: body.includes('class="bst-chart-placeholder"'),
    };
  });
}

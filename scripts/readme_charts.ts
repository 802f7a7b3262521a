/**
 * README pictures: one chart from each executed notebook, drawn by headless Chromium into docs/img/*.png.
 *
 *   npx tsx scripts/readme_charts.ts [--in build] [--out docs/img] [--width 800] [--height 420]
 *
 * Reads the executed notebooks (<in>/notebooks/NN_*.ipynb, written by scripts/run_notebooks.py), takes from each
 * the chart named in CHOICE (its `data-bst-chart` name; else the notebook's first chart), writes a standalone
 * page holding that figure and the local plotly.js, and screenshots it with Chromium (no network). Each PNG
 * must stay under 200 KB; the script fails naming any notebook without a chart or any picture that is too big.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { plotlyBundlePath } from '../lib/viz/plotly';

/** The chart shown in the README for each notebook (by `plot(..., { name })`). */
export const CHOICE: Record<string, string> = {
  '01_explore': 'long-tail',
  '02_sequences': 'leakage',
  '03_model': 'attention',
  '04_training': 'test-vs-baselines',
  '05_sequence_length': 'rmse-vs-L',
  '07_retrieval': 'recall-at-m',
};

const MAX_BYTES = 200 * 1024;

interface Cell {
  outputs?: Array<{ data?: Record<string, string | string[]> }>;
}

/** Figures found in an executed notebook, in output order, with their chart names ('' when unnamed). */
export function figuresOf(notebookJson: string): Array<{
  name: string;
  figure: { data: unknown[]; layout: Record<string, unknown>; config?: Record<string, unknown> };
}> {
  const nb = JSON.parse(notebookJson) as { cells: Cell[] };
  const out: ReturnType<typeof figuresOf> = [];
  for (const c of nb.cells) {
    for (const o of c.outputs ?? []) {
      const raw = o.data?.['text/html'];
      if (raw === undefined) continue;
      const html = Array.isArray(raw) ? raw.join('') : raw;
      const re =
        /<div id="([^"]+)" class="bst-chart"(?: data-bst-chart="([^"]*)")?[^>]*>[\s\S]*?<script type="application\/json" id="\1-fig">([\s\S]*?)<\/script>/g;
      for (const m of html.matchAll(re)) out.push({ name: m[2] ?? '', figure: JSON.parse(m[3]) });
    }
  }
  return out;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

function main(): void {
  const root = path.resolve(__dirname, '..');
  const inDir = path.resolve(arg('in', path.join(root, 'build')));
  const outDir = path.resolve(arg('out', path.join(root, 'docs', 'img')));
  const width = Number(arg('width', '800'));
  const height = Number(arg('height', '420'));
  const chromium = process.env.BST_CHROMIUM || '/usr/bin/chromium';
  const nbDir = path.join(inDir, 'notebooks');
  if (!fs.existsSync(nbDir))
    throw new Error(`${nbDir} not found: run the notebooks first (python3 scripts/run_notebooks.py --out ${inDir})`);
  const notebooks = fs
    .readdirSync(nbDir)
    .filter((f) => /^\d\d_.*\.ipynb$/.test(f))
    .sort();
  if (notebooks.length === 0) throw new Error(`no executed notebooks in ${nbDir}`);
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-readme-'));
  const problems: string[] = [];
  try {
    for (const f of notebooks) {
      const base = f.replace(/\.ipynb$/, '');
      const figs = figuresOf(fs.readFileSync(path.join(nbDir, f), 'utf8'));
      const want = CHOICE[base];
      const pick = figs.find((x) => x.name === want) ?? figs[0];
      if (!pick) {
        problems.push(`${f}: no chart in its outputs`);
        continue;
      }
      const layout = { ...pick.figure.layout, width, height, autosize: false };
      const page = path.join(tmp, base + '.html');
      fs.writeFileSync(
        page,
        `<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0;background:white}</style>` +
          `<script src="file://${plotlyBundlePath()}"></script></head><body><div id="c"></div><script>` +
          `Plotly.newPlot("c", ${JSON.stringify(pick.figure.data).replace(/</g, '\\u003c')}, ${JSON.stringify(layout).replace(/</g, '\\u003c')}, ` +
          `{ staticPlot: true, displayModeBar: false });</script></body></html>`,
      );
      const png = path.join(outDir, base + '.png');
      const r = spawnSync(
        chromium,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--hide-scrollbars',
          `--user-data-dir=${path.join(tmp, 'profile')}`,
          '--virtual-time-budget=10000',
          `--window-size=${width},${height}`,
          `--screenshot=${png}`,
          'file://' + page,
        ],
        { encoding: 'utf8', timeout: 120_000 },
      );
      if (r.status !== 0 || !fs.existsSync(png)) {
        problems.push(`${f}: chromium failed (${r.status}): ${(r.stderr ?? '').slice(-500)}`);
        continue;
      }
      const bytes = fs.statSync(png).size;
      console.log(
        `${path.relative(root, png)}  <- ${f} chart "${pick.name || '(first)'}"  ${(bytes / 1024).toFixed(0)} KB`,
      );
      if (bytes > MAX_BYTES) problems.push(`${png}: ${bytes} bytes > ${MAX_BYTES}`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (problems.length) {
    console.error('readme_charts: ' + problems.join('\nreadme_charts: '));
    process.exit(1);
  }
}

if (require.main === module) main();

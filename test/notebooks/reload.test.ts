/**
 * Charts survive a page reload: a real `jupyter notebook` server on loopback with the project's tslab kernel,
 * driven by Chromium through playwright-core.
 *
 *   1. open a clean notebook, run every cell: both charts draw (the first carries plotly.js);
 *   2. reload the page without saving (kernel still running, the page has no plotly.js any more) and re-run
 *      the second chart cell: it must draw, not say "plotly.js not loaded";
 *   3. save; the file holds exactly one plotly.js copy, and a fresh browser (empty cache) opening the executed
 *      notebook draws its chart offline; no toolbar button uploads data to a cloud service.
 *
 * Skips (saying why) only when Chromium or the classic notebook server is missing.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { CHROMIUM, PYTHON, ROOT, tmpDir } from './helpers';
import { PLOTLY_MISSING_TEXT } from '../../lib/viz';

// page functions run in the browser; the project's tsconfig has no DOM lib
declare const window: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const KERNELS = path.join(ROOT, '.jupyter', 'share', 'jupyter');
const TSLAB = path.join(ROOT, 'node_modules', '.bin', 'tslab');

function missing(): string | null {
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} not found (set BST_CHROMIUM)`;
  const v = spawnSync(PYTHON, ['-m', 'notebook', '--version'], { encoding: 'utf8' });
  if (v.status !== 0)
    return `the classic Jupyter notebook server is missing (${PYTHON} -m notebook): apt-get install jupyter-notebook`;
  if (!fs.existsSync(TSLAB)) return `${TSLAB} missing`;
  return null;
}

const why = missing();
const maybe = why ? test.skip : test;
if (why) console.warn(`reload.test.ts skipped: ${why}`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function cell(source: string) {
  return { cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source };
}

async function waitForServer(url: string, server: ChildProcess, log: () => string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (server.exitCode !== null) throw new Error(`jupyter notebook exited ${server.exitCode}: ${log().slice(-2000)}`);
    try {
      const r = await fetch(url + 'api');
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`jupyter notebook did not answer at ${url} within ${ms} ms: ${log().slice(-2000)}`);
}

describe('charts after a page reload in the classic notebook', () => {
  maybe(
    'reload, re-run a chart cell: the chart draws; the saved file draws in a fresh browser',
    async () => {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const { chromium } = require('playwright-core') as typeof import('playwright-core');
      const dir = tmpDir('bst-reload-');
      // tslab compiles imports only under the notebook's folder (its rootDir): a folder in build/ with a lib link
      fs.mkdirSync(path.join(ROOT, 'build'), { recursive: true });
      const nbDir = fs.mkdtempSync(path.join(ROOT, 'build', 'reload-test-'));
      if (!fs.existsSync(path.join(KERNELS, 'kernels', 'tslab', 'kernel.json'))) {
        spawnSync(
          TSLAB,
          ['install', `--python=${PYTHON}`, `--binary=${TSLAB}`, `--prefix=${path.join(ROOT, '.jupyter')}`],
          { stdio: 'ignore' },
        );
      }
      fs.symlinkSync(path.join(ROOT, 'lib'), path.join(nbDir, 'lib')); // as notebooks/lib -> ../lib

      const nbFile = path.join(nbDir, 'charts.ipynb');
      fs.writeFileSync(
        nbFile,
        JSON.stringify(
          {
            cells: [
              // the two lib/viz modules charts need (lib/index would make tslab compile all of lib first)
              cell('import { plot } from "./lib/viz/display";\nimport { barFigure } from "./lib/viz/charts";'),
              cell('plot(barFigure(["a", "b"], [1, 2], { title: "first" }), {}, { name: "first" });'),
              cell('plot(barFigure(["c", "d"], [3, 4], { title: "second" }), {}, { name: "second" });'),
            ],
            metadata: {
              kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' },
              language_info: { name: 'typescript' },
            },
            nbformat: 4,
            nbformat_minor: 4,
          },
          null,
          1,
        ),
      );
      const port = await freePort();
      const env = {
        ...process.env,
        JUPYTER_CONFIG_DIR: path.join(dir, 'config'),
        JUPYTER_DATA_DIR: path.join(dir, 'data'),
        JUPYTER_RUNTIME_DIR: path.join(dir, 'runtime'),
        JUPYTER_PATH: KERNELS,
        IPYTHONDIR: path.join(dir, 'ipython'),
      };
      let serverLog = '';
      const server = spawn(
        PYTHON,
        [
          '-m',
          'notebook',
          '--no-browser',
          '--allow-root',
          '--ip=127.0.0.1',
          `--port=${port}`,
          '--NotebookApp.token=',
          '--NotebookApp.password=',
          '--NotebookApp.port_retries=0',
          `--notebook-dir=${nbDir}`,
        ],
        { env, cwd: nbDir },
      );
      server.stdout?.on('data', (b) => (serverLog += b));
      server.stderr?.on('data', (b) => (serverLog += b));
      const base = `http://127.0.0.1:${port}/`;
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
      try {
        await waitForServer(base, server, () => serverLog);
        const ctx = await browser.newContext();
        // offline: the page may reach the notebook server only
        await ctx.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
        const page = await ctx.newPage();
        page.on('dialog', (d) => void d.accept()); // "leave page?" on reload
        const url = `${base}notebooks/charts.ipynb`;
        const kernelReady = () =>
          page
            .waitForFunction(
              () => {
                const J = (window as any).Jupyter;
                return !!(J && J.notebook && J.notebook.kernel && J.notebook.kernel.is_connected());
              },
              undefined,
              { timeout: 90_000 },
            ) // a loaded CI machine can take a while to start the kernel
            .catch((e: Error) => {
              throw new Error(`${e.message}\nnotebook server log (tail):\n${serverLog.slice(-2000)}`);
            });
        const charts = (name: string) => `.bst-chart[data-bst-chart="${name}"] .plot-container svg.main-svg`;

        const t0 = Date.now();
        const mark = (what: string) =>
          console.log(`reload test: ${what} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        // 1. run all cells: both charts draw
        await page.goto(url);
        await kernelReady();
        await page.evaluate(() => (window as any).Jupyter.notebook.execute_all_cells());
        await page.waitForSelector(charts('first'), { timeout: 60_000 }).catch(async (e) => {
          const outputs = await page.$$eval('.output_area', (os) => os.map((o) => (o.textContent ?? '').slice(0, 500)));
          throw new Error(`${e}\noutputs: ${JSON.stringify(outputs)}\nserver: ${serverLog.slice(-3000)}`);
        });
        await page.waitForSelector(charts('second'), { timeout: 20_000 });
        mark('first run drawn');

        // 2. reload without saving, re-run the second chart cell
        await page.evaluate(() => (window as any).Jupyter.notebook.set_dirty(false));
        await page.reload();
        await kernelReady();
        expect(await page.locator('.bst-chart').count()).toBe(0); // the page holds no output and no plotly.js
        await page.evaluate(() => (window as any).Jupyter.notebook.execute_cells([2]));
        await page.waitForSelector('.bst-chart[data-bst-chart="second"]', { timeout: 20_000 });
        const drawnOrFailed = await page.waitForFunction(
          () => {
            const el = document.querySelector('.bst-chart[data-bst-chart="second"]');
            if (!el) return null;
            if (el.querySelector('.plot-container svg.main-svg')) return 'drawn';
            if (el.querySelector('.bst-chart-error')) return 'error: ' + el.textContent;
            return null;
          },
          undefined,
          { timeout: 30_000 },
        );
        expect(await drawnOrFailed.jsonValue()).toBe('drawn');
        const errors = await page.$$eval('.bst-chart-error', (es) => es.map((e) => e.textContent ?? ''));
        expect(errors).toEqual([]);
        expect(await page.locator('.bst-chart', { hasText: PLOTLY_MISSING_TEXT.slice(0, 24) }).count()).toBe(0);
        // no toolbar button that sends the data away
        await page.hover(charts('second'));
        const titles = await page.$$eval('.bst-chart .modebar-btn', (bs) =>
          bs.map((b) => b.getAttribute('data-title') ?? ''),
        );
        expect(titles.length).toBeGreaterThan(0);
        expect(titles.filter((t) => /cloud|chart studio/i.test(t))).toEqual([]);

        mark('re-run after reload drawn');
        // 3. save: one plotly.js copy in the file; a fresh browser draws the executed notebook offline
        await page.evaluate(() => (window as any).Jupyter.notebook.save_notebook());
        await page.waitForFunction(() => !(window as any).Jupyter.notebook.dirty, undefined, { timeout: 20_000 });
        const saved = fs.readFileSync(nbFile, 'utf8');
        expect(saved.split('data-bst-plotly=\\"embedded\\">').length - 1).toBe(1);
        // the reader trusts the file once (File > Trust Notebook; `jupyter trust` here), as for any notebook received
        const trust = spawnSync(PYTHON, ['-m', 'nbformat.sign', nbFile], { env, encoding: 'utf8' });
        expect(trust.status).toBe(0);
        const fresh = await browser.newContext();
        await fresh.route('**/*', (route) =>
          route.request().url().startsWith(base) ? route.continue() : route.abort(),
        );
        const page2 = await fresh.newPage();
        await page2.goto(url);
        await page2.waitForSelector(charts('second'), { timeout: 30_000 }).catch(async (e) => {
          const state = await page2.evaluate(() => ({
            trusted: (window as any).Jupyter?.notebook?.trusted,
            charts: [...document.querySelectorAll('.output_area')].map((c) => (c.textContent ?? '').slice(0, 300)),
          }));
          throw new Error(`${e}\n${JSON.stringify(state)}\nserver: ${serverLog.slice(-1500)}`);
        });
        mark('fresh browser drawn');
        await fresh.close();
        await ctx.close();
      } finally {
        await browser.close();
        server.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, 500));
        if (server.exitCode === null) server.kill('SIGKILL');
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(nbDir, { recursive: true, force: true });
      }
    },
    360_000,
  );
});

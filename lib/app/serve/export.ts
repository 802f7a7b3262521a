/**
 * `bst export-web --model DIR --out DIR`: the page as static files for any static host, with the model running
 * in the browser (lib/app/serve/browser/engine.ts, bundled by esbuild with tfjs; cpu backend, webgl with ?backend=webgl):
 *   index.html, app.js, style.css   the page (lib/app/serve/web), index.html loading engine.js first
 *   engine.js                      tfjs + bst-lab's custom layers + BstRecommender, minified
 *   model/model.json, weights.bin  the run's best checkpoint (tfjs LayersModel format)
 *   catalog.json                   movies (id, title, year, genres), item features, vocabularies, popularity
 * The export answers anonymous picks only (it carries no ratings or users). esbuild is a dev dependency,
 * loaded on first use. Registered by lib/cli.ts as `COMMANDS['export-web']`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../kernels/backend';
import { vocabsToJSON } from '../../data/vocab';
import { popularityScores } from '../../eval/ranking';
import { loadRun } from '../experiment';
import { movieCatalog } from '../../recommend/catalog';
import { FlagSpec, FlagValues } from '../../util/args';
import { OutputError } from '../../util/errors';
import { writeFileAtomic, writeJsonAtomic } from '../../util/files';
import { ExportedCatalog } from './browser/engine';

/** Node built-ins some bundled lib modules import at the top; the browser engine never calls them. */
const NODE_BUILTINS =
  /^(node:.*|fs|path|os|zlib|crypto|child_process|worker_threads|url|util|stream|http|https|net|perf_hooks|module|events|assert|tty|readline|v8)$/;

/** `path` for module-level path computations of bundled files (never used to reach a file in the browser). */
const PATH_SHIM =
  'const j = (...a) => a.filter(Boolean).join("/").replace(/\\/+/g, "/"); module.exports = { sep: "/", join: j, resolve: j, ' +
  'dirname: (p) => p.replace(/\\/[^/]*$/, "") || "/", basename: (p) => p.split("/").pop(), extname: (p) => (p.match(/\\.[^./]*$/) || [""])[0] };';

/** Bundle lib/app/serve/browser/engine.ts for browsers (minified IIFE); returns the code. */
export async function bundleEngine(): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const r = await esbuild.build({
    entryPoints: [path.join(__dirname, 'browser', 'engine.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
    // module-level code of bundled lib files reads these Node globals (paths, env); the browser gets inert values
    banner: {
      js: 'var process=globalThis.process||{env:{},versions:{},platform:"browser",cwd:function(){return"/"}};var __dirname="/",__filename="/engine.js";',
    },
    plugins: [
      {
        name: 'no-node-builtins',
        setup(b) {
          b.onResolve({ filter: NODE_BUILTINS }, (a) => ({ path: a.path, namespace: 'empty' }));
          b.onLoad({ filter: /.*/, namespace: 'empty' }, (a) => ({
            contents: /^(node:)?path$/.test(a.path) ? PATH_SHIM : 'module.exports = {}',
          }));
        },
      },
    ],
  });
  return r.outputFiles[0].text;
}

/** Options of `exportWeb`. */
export interface ExportWebOptions {
  modelDir: string;
  outDir: string;
  dataset?: string;
  dataDir?: string;
  /** replace files in a non-empty outDir (default false: OutputError) */
  overwrite?: boolean;
}

/** What `exportWeb` wrote: files and their total size in bytes. */
export interface ExportWebResult {
  outDir: string;
  files: { file: string; bytes: number }[];
  totalBytes: number;
}

/** Write the static export (see the module comment). */
export async function exportWeb(o: ExportWebOptions): Promise<ExportWebResult> {
  const out = path.resolve(o.outDir);
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory())
    throw new OutputError(`${out}: --out is a file, not a folder`);
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0 && !o.overwrite)
    throw new OutputError(`${out}: --out is not empty; pass --overwrite to replace the export in it`);
  const run = await loadRun(o.modelDir, { dataset: o.dataset, dataDir: o.dataDir });
  const { data, dataset, model } = run;
  const cat = movieCatalog(dataset, data);
  const n = data.sizes.numItems;
  const G = data.sizes.numGenres;
  const genreNames = Array.from({ length: G }, (_, g) => String(data.vocabs.genre.value(g + 1) ?? `genre ${g}`));
  const pop = popularityScores({ interactions: data.interactions, positions: data.split.train, numItems: n });
  const exported: ExportedCatalog = {
    dataset: dataset.release,
    seqLen: data.seqLen,
    config: model.config,
    sizes: model.sizes,
    vocabularies: vocabsToJSON(data.vocabs),
    movieId: Array.from(cat.movieId),
    title: cat.title,
    year: Array.from(cat.year),
    genreNames,
    genres: Array.from({ length: n }, (_, i) =>
      Array.from({ length: G }, (_, g) => g).filter((g) => data.features.itemGenres[i * G + g] > 0),
    ),
    itemYear: Array.from(data.features.itemYear),
    popularity: Array.from(pop),
  };
  model.net.dispose();
  const web = path.join(__dirname, 'web');
  const ckpt = path.join(run.runDir, 'checkpoints', 'best');
  const html = fs
    .readFileSync(path.join(web, 'index.html'), 'utf8')
    .replace('<script src="app.js"></script>', '<script src="engine.js"></script>\n  <script src="app.js"></script>');
  fs.mkdirSync(path.join(out, 'model'), { recursive: true });
  writeFileAtomic(path.join(out, 'index.html'), html);
  for (const f of ['app.js', 'style.css']) writeFileAtomic(path.join(out, f), fs.readFileSync(path.join(web, f)));
  writeFileAtomic(path.join(out, 'engine.js'), await bundleEngine());
  for (const f of ['model.json', 'weights.bin'])
    writeFileAtomic(path.join(out, 'model', f), fs.readFileSync(path.join(ckpt, f)));
  writeJsonAtomic(path.join(out, 'catalog.json'), exported);
  const files = [
    'index.html',
    'app.js',
    'style.css',
    'engine.js',
    'model/model.json',
    'model/weights.bin',
    'catalog.json',
  ].map((file) => ({ file, bytes: fs.statSync(path.join(out, file)).size }));
  return { outDir: out, files, totalBytes: files.reduce((a, f) => a + f.bytes, 0) };
}

const FLAGS: Record<string, FlagSpec> = {
  model: { type: 'string', help: 'a run folder written by `bst train` or `bst train-recommender`', required: true },
  out: { type: 'string', help: 'output folder for the static site', required: true },
  overwrite: { type: 'boolean', help: 'replace the files of an earlier export in --out', default: false },
  dataset: { type: 'string', help: "MovieLens release; default the run's" },
  'data-dir': { type: 'string', help: 'folder holding one folder per release; default $BST_DATA_DIR or data/' },
  backend: {
    type: 'string',
    help: 'tfjs backend for loading the run: auto, node-gpu, node, wasm, cpu; default $BST_BACKEND or auto',
  },
};

async function run(f: FlagValues): Promise<void> {
  await initBackend({ choice: f.backend as string | undefined });
  const r = await exportWeb({
    modelDir: String(f.model),
    outDir: String(f.out),
    dataset: f.dataset as string | undefined,
    dataDir: f.dataDir as string | undefined,
    overwrite: Boolean(f.overwrite),
  });
  for (const x of r.files) console.log(`${x.file.padEnd(18)} ${(x.bytes / 1024).toFixed(1).padStart(9)} KB`);
  console.log(
    `wrote ${r.outDir}: ${(r.totalBytes / 1024 / 1024).toFixed(2)} MB; serve it with any static file server (the model runs in the browser)`,
  );
}

/** The `export-web` command (summary, flags, run) for lib/cli.ts's command table. */
export const exportWebCommand = {
  summary: 'write the page plus the model as static files (the model runs in the browser with tfjs)',
  flags: FLAGS,
  run,
};

/**
 * `bst recommend --model runs/latest --user 42 --k 10`: top-k unrated movies for a user from a run folder
 * written by `bst train`. Registered by lib/cli.ts: `registerCommand('recommend', recommendCommand)`.
 */
import { initBackend } from '../backend';
import { loadRun } from '../experiment';
import { FlagSpec, FlagValues, UsageError } from '../util/args';
import { movieCatalog } from './catalog';
import { formatRecommendations, recommend } from './recommend';

const FLAGS: Record<string, FlagSpec> = {
  model: { type: 'string', help: 'a run folder written by `bst train` (metrics.json + checkpoints/best)', required: true },
  user: { type: 'int', help: 'MovieLens user id', required: true },
  k: { type: 'int', help: 'number of movies', default: 10 },
  diversity: { type: 'number', help: 'MMR re-ranking weight of relevance in [0, 1]; 1 = plain top-k, 0.7 = some genre diversity', default: 1 },
  explain: { type: 'int', help: 'history ratings named per movie ("because you rated ..."); 0 = none', default: 2 },
  'cold-start': { type: 'boolean', help: 'unknown user: recommend popular movies in the genres of --history instead of failing', default: false },
  history: { type: 'string', help: 'cold start: comma-separated movie ids the new user liked' },
  json: { type: 'boolean', help: 'print JSON instead of a table', default: false },
  dataset: { type: 'string', help: "MovieLens release; default the run's" },
  'data-dir': { type: 'string', help: 'folder holding one folder per release; default $BST_DATA_DIR or data/' },
  backend: { type: 'string', help: 'tfjs backend: auto, node-gpu, node, wasm, cpu; default $BST_BACKEND or auto' },
};

function movieIds(text: string | undefined): number[] {
  if (!text) return [];
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const v = Number(s);
    if (!Number.isInteger(v)) throw new UsageError(`--history: ${JSON.stringify(s)} is not a movie id`);
    return v;
  });
}

async function run(f: FlagValues): Promise<void> {
  const k = Number(f.k);
  if (!(k >= 1)) throw new UsageError(`--k ${k}: expected an integer >= 1`);
  const lambda = Number(f.diversity);
  if (!(lambda >= 0 && lambda <= 1)) throw new UsageError(`--diversity ${lambda}: expected a number in [0, 1]`);
  await initBackend({ choice: f.backend as string | undefined });
  const { model, data, dataset } = await loadRun(String(f.model), { dataset: f.dataset as string | undefined, dataDir: f.dataDir as string | undefined });
  const result = recommend({
    model,
    data,
    catalog: movieCatalog(dataset, data),
    userId: Number(f.user),
    k,
    diversity: lambda < 1 ? { lambda } : undefined,
    explain: Number(f.explain),
    fallback: f.coldStart ? 'popular' : 'error',
    history: movieIds(f.history as string | undefined),
  });
  console.log(f.json ? JSON.stringify(result, null, 2) : formatRecommendations(result));
}

/** The `recommend` command (summary, flags, run) for lib/cli.ts's registerCommand. */
export const recommendCommand = {
  summary: "top-k unrated movies for a user from a trained run, with title, year, genres, score and why",
  flags: FLAGS,
  run,
};

/**
 * `bst serve --model runs/like [--port 8080] [--host 127.0.0.1]`: the recommendation service and its page
 * (lib/app/serve/server.ts) on a run folder. SIGHUP (or POST /admin/reload) reloads the run folder and swaps the
 * model in atomically; SIGINT / SIGTERM close the server. Registered by lib/cli.ts as `COMMANDS.serve`.
 */
import { initBackend } from '../../kernels/backend';
import { FlagSpec, FlagValues, UsageError } from '../../util/args';
import { loadServingModel } from './model';
import { DEFAULT_SCORE_CACHE } from './recommender';
import { buildServer, DEFAULT_BODY_LIMIT } from './server';

const FLAGS: Record<string, FlagSpec> = {
  model: {
    type: 'string',
    help: 'a run folder written by `bst train` or `bst train-recommender` (metrics.json + checkpoints/best)',
    required: true,
  },
  port: { type: 'int', help: 'TCP port (0 = any free port)', default: 8080 },
  host: {
    type: 'string',
    help: 'address to listen on (the admin reload endpoint has no authentication: keep it on loopback unless a proxy guards it)',
    default: '127.0.0.1',
  },
  'body-limit': { type: 'int', help: 'largest request body in bytes (bigger: 413)', default: DEFAULT_BODY_LIMIT },
  'idle-timeout': { type: 'int', help: 'ms a connection may stall mid-request before it is closed', default: 10000 },
  cache: {
    type: 'int',
    help: 'histories whose scores and explanations are kept for follow-up requests (0 = none)',
    default: DEFAULT_SCORE_CACHE,
  },
  log: { type: 'boolean', help: 'log every request (fastify logger, JSON lines on stdout)', default: false },
  dataset: { type: 'string', help: "MovieLens release; default the run's" },
  'data-dir': { type: 'string', help: 'folder holding one folder per release; default $BST_DATA_DIR or data/' },
  backend: { type: 'string', help: 'tfjs backend: auto, node-gpu, node, wasm, cpu; default $BST_BACKEND or auto' },
};

async function run(f: FlagValues): Promise<void> {
  const port = Number(f.port);
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535))
    throw new UsageError(`--port ${f.port}: expected an integer in 0..65535`);
  await initBackend({ choice: f.backend as string | undefined });
  const modelDir = String(f.model);
  const app = await buildServer({
    load: (generation) =>
      loadServingModel(modelDir, {
        dataset: f.dataset as string | undefined,
        dataDir: f.dataDir as string | undefined,
        generation,
        cacheSize: Number(f.cache),
      }),
    bodyLimit: Number(f.bodyLimit),
    connectionTimeout: Number(f.idleTimeout),
    logger: Boolean(f.log),
  });
  const address = await app.listen({ port, host: String(f.host) });
  const info = app.current().info;
  console.log(
    `bst serve: ${info.dataset}, ${info.movies} movies, model ${info.runDir}; listening on ${address} (page at ${address}/)`,
  );
  const onHup = () => {
    app.reload().then(
      (i) => console.log(`bst serve: reloaded ${i.runDir} (generation ${i.generation})`),
      (e: Error) => console.error(`bst serve: reload failed, still serving the previous model: ${e.message}`),
    );
  };
  // a stray rejection is logged, never fatal: the service keeps answering
  const onRejection = (e: unknown) =>
    console.error(`bst serve: unhandled rejection: ${(e as Error)?.message ?? String(e)}`);
  process.on('SIGHUP', onHup);
  process.on('unhandledRejection', onRejection);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      console.log(`bst serve: ${sig}, closing`);
      void app.close().then(() => resolve());
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  process.off('SIGHUP', onHup);
  process.off('unhandledRejection', onRejection);
}

/** The `serve` command (summary, flags, run) for lib/cli.ts's command table. */
export const serveCommand = {
  summary:
    'HTTP JSON recommendation service and its page on a trained run (POST /recommend, GET /movies, /movies/:id/similar, /model, /healthz)',
  flags: FLAGS,
  run,
};

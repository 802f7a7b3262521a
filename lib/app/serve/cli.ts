/**
 * `bst serve --model runs/like [--port 8080] [--host 127.0.0.1] [--workers 2]`: the recommendation service and its
 * page (lib/app/serve/server.ts) on a run folder. SIGHUP (or POST /admin/reload) reloads the run folder and swaps
 * the model in atomically; SIGINT / SIGTERM close the server. Registered by lib/cli.ts as `COMMANDS.serve`.
 *
 * With `--workers N` (N > 1) the process is a node:cluster primary that starts N server processes sharing the
 * port (each loads the model; the operating system spreads connections over them), forwards SIGHUP to all of
 * them, passes a POST /admin/reload answered by one worker on to the others, replaces a worker that dies after it
 * was serving, and stops them all on SIGINT / SIGTERM.
 */
import cluster from 'cluster';
import { initBackend } from '../../kernels/backend';
import { FlagSpec, FlagValues, UsageError } from '../../util/args';
import { ConfigError } from '../../util/errors';
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
  workers: {
    type: 'int',
    help: 'server processes sharing the port (node:cluster; each loads the model): 1, or up to the cores',
    default: 1,
  },
  dataset: { type: 'string', help: "MovieLens release; default the run's" },
  'data-dir': { type: 'string', help: 'folder holding one folder per release; default $BST_DATA_DIR or data/' },
  backend: { type: 'string', help: 'tfjs backend: auto, node-gpu, node, wasm, cpu; default $BST_BACKEND or auto' },
};

/** The message a worker sends its primary after an /admin/reload, and the primary sends workers to reload. */
const RELOAD_MESSAGE = 'bst-serve-reload';

async function run(f: FlagValues): Promise<void> {
  const port = Number(f.port);
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535))
    throw new UsageError(`--port ${f.port}: expected an integer in 0..65535`);
  const workers = Number(f.workers);
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 64))
    throw new UsageError(`--workers ${f.workers}: expected an integer in 1..64`);
  if (workers > 1 && cluster.isPrimary) return runPrimary(workers);
  if (!cluster.isWorker) return serveOne(f, port);
  try {
    await serveOne(f, port);
  } finally {
    cluster.worker?.disconnect(); // the IPC channel would keep a worker alive, after an error too
  }
}

/** One server process: `bst serve` itself, or one worker of `--workers N`. */
async function serveOne(f: FlagValues, port: number): Promise<void> {
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
    // a worker tells its primary, which reloads the other workers
    onAdminReload: cluster.isWorker ? () => process.send?.({ type: RELOAD_MESSAGE }) : undefined,
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
  const onMessage = (m: unknown) => {
    if ((m as { type?: unknown })?.type === RELOAD_MESSAGE) onHup();
  };
  process.on('SIGHUP', onHup);
  process.on('unhandledRejection', onRejection);
  process.on('message', onMessage);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`bst serve: ${sig}, closing`);
      void app.close().then(() => resolve());
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  process.off('SIGHUP', onHup);
  process.off('unhandledRejection', onRejection);
  process.off('message', onMessage);
}

/** The cluster primary of `--workers N`: see the module comment. Resolves when every worker has stopped. */
async function runPrimary(n: number): Promise<void> {
  let stopping = false;
  const serving = new Set<number>(); // ids of workers that reached listen()
  console.log(`bst serve: starting ${n} workers (node:cluster, one port)`);
  const others = (id?: number) => Object.values(cluster.workers ?? {}).filter((w) => w && w.id !== id);
  const fork = () =>
    cluster.fork().once('listening', function (this: { id: number }) {
      serving.add(this.id);
    });
  for (let i = 0; i < n; i++) fork();
  const done = new Promise<void>((resolve, reject) => {
    cluster.on('exit', (w, code, signal) => {
      const wasServing = serving.delete(w.id);
      if (!stopping && wasServing) {
        console.error(`bst serve: worker ${w.process.pid} stopped (${signal ?? `exit ${code}`}); starting another`);
        fork();
      } else if (!stopping) {
        // died before it served (a bad model, a taken port): do not loop; stop the rest
        stopping = true;
        for (const o of others()) o?.process.kill('SIGTERM');
        reject(new ConfigError(`a worker failed to start (${signal ?? `exit ${code}`}); see its message above`));
      }
      if (others(w.id).length === 0 && stopping) resolve();
    });
  });
  cluster.on('message', (w, m: unknown) => {
    if ((m as { type?: unknown })?.type === RELOAD_MESSAGE)
      for (const o of others(w.id)) o?.send({ type: RELOAD_MESSAGE });
  });
  const onHup = () => {
    for (const o of others()) o?.send({ type: RELOAD_MESSAGE });
  };
  process.on('SIGHUP', onHup);
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`bst serve: ${sig}, stopping ${others().length} workers`);
    for (const o of others()) o?.process.kill('SIGTERM');
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  try {
    await done;
  } finally {
    process.off('SIGHUP', onHup);
  }
}

/** The `serve` command (summary, flags, run) for lib/cli.ts's command table. */
export const serveCommand = {
  summary:
    'HTTP JSON recommendation service and its page on a trained run (POST /recommend, GET /movies, /movies/:id/similar, /model, /healthz)',
  flags: FLAGS,
  run,
};

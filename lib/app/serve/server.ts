/**
 * The recommendation service (fastify): `buildServer(opts)` returns a ready fastify instance (tests use
 * `inject`, `bst serve` calls `listen`).
 *
 *   POST /recommend          {userId} or {movies, ratings?}; k, diversity, exclude, mode, explain -> ranked movies
 *   GET  /movies?query=&limit=  title search (every word, case-insensitive), most rated first
 *   GET  /movies/:id         one movie
 *   GET  /movies/:id/similar?k=  item-item: cosine of the BST's item embeddings
 *   GET  /healthz            {ok, generation}
 *   GET  /model              dataset, config, metrics of the served run
 *   POST /admin/reload       load the model again (same loader) and swap it in atomically
 *   GET  /                   the page (lib/app/serve/web)
 *
 * Input is checked by JSON schemas; a bad value gets a 400 whose message names the field and the value, an
 * unknown user 404, an unknown movie id 422 (404 in a path), a body over `bodyLimit` 413. Errors never end the
 * process: the error handler answers every thrown error (500 for the unexpected ones, logged).
 * Model swaps: a reload loads and warms the new model fully, then replaces the reference; requests hold the
 * model they started with and the old one is disposed once the last of them is done.
 */
import * as fs from 'fs';
import * as path from 'path';
import Fastify, { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { BstError, ConfigError, DataError } from '../../util/errors';
import { ModelInfo, ServingModel } from './model';
import { RecommendRequest, RequestError } from './recommender';

/** Default largest accepted request body (bytes); a recommend request with 200 movies is about 2 KB. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;
/** Most movies in an anonymous history, most exclusions, longest list, longest search. */
export const LIMITS = { movies: 500, exclude: 5000, k: 100, similar: 100, search: 100, query: 200 } as const;

/** Options of `buildServer`. */
export interface ServeOptions {
  /** loads a model; called once at start and again on every reload with the next generation number */
  load: (generation: number) => Promise<ServingModel>;
  /** largest request body in bytes (default DEFAULT_BODY_LIMIT); bigger ones get 413 */
  bodyLimit?: number;
  /** ms a socket may stay idle (a client that stalls mid-request) before it is closed (default 10000) */
  connectionTimeout?: number;
  /** ms a whole request may take to arrive (default 30000) */
  requestTimeout?: number;
  /** folder of the page's static files (default lib/app/serve/web; null: no page) */
  webRoot?: string | null;
  /** fastify logger (default off) */
  logger?: boolean;
  /** called after a POST /admin/reload succeeded (bst serve --workers: tell the other workers) */
  onAdminReload?: () => void;
}

/** The service: a fastify instance plus the model holder. */
export type ServeApp = FastifyInstance & {
  /** load the next model and swap it in (concurrent calls share one load); resolves to its info */
  reload(): Promise<ModelInfo>;
  /** the model requests start on now */
  current(): ServingModel;
};

interface Slot {
  model: ServingModel;
  active: number;
  retired: boolean;
}

const RECOMMEND_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    userId: { type: 'integer', minimum: 1 },
    movies: { type: 'array', items: { type: 'integer' }, minItems: 1, maxItems: LIMITS.movies },
    ratings: { type: 'array', items: { type: 'number', exclusiveMinimum: 0, maximum: 5 }, maxItems: LIMITS.movies },
    k: { type: 'integer', minimum: 1, maximum: LIMITS.k },
    diversity: { type: 'number', minimum: 0, maximum: 1 },
    exclude: { type: 'array', items: { type: 'integer' }, maxItems: LIMITS.exclude },
    mode: { type: 'string', enum: ['pipeline', 'exact', 'two-stage'] },
    explain: { type: 'integer', minimum: 0, maximum: 5 },
  },
} as const;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An ajv error as fastify hands it to the formatter (with ajv's `verbose`: the offending `data`). */
interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  data?: unknown;
}

/** "body.movies[2]: must be integer, got \"x\"" from an ajv error. */
export function schemaMessage(e: SchemaError, dataVar: string): string {
  const where = dataVar + e.instancePath.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.');
  const shown = (v: unknown) => {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 80 ? s.slice(0, 80) + '...' : s;
  };
  switch (e.keyword) {
    case 'required':
      return `${where}.${String(e.params.missingProperty)}: required`;
    case 'additionalProperties':
      return `${where}.${String(e.params.additionalProperty)}: unknown field (got ${shown((e.data as Record<string, unknown>)?.[String(e.params.additionalProperty)])})`;
    default:
      return `${where}: ${e.message ?? e.keyword}, got ${shown(e.data)}`;
  }
}

/** Build the service around `opts.load` (called once here, before it resolves). See the module comment. */
export async function buildServer(opts: ServeOptions): Promise<ServeApp> {
  let generation = 1;
  let slot: Slot = { model: await opts.load(generation), active: 0, retired: false };
  let reloading: Promise<ModelInfo> | null = null;

  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit,
    connectionTimeout: opts.connectionTimeout ?? 10_000,
    requestTimeout: opts.requestTimeout ?? 30_000,
    return503OnClosing: true,
    ajv: { customOptions: { verbose: true, removeAdditional: false, allErrors: false } },
    schemaErrorFormatter: (errors, dataVar) => new Error(schemaMessage(errors[0] as unknown as SchemaError, dataVar)),
  });

  const release = (s: Slot) => {
    s.active--;
    if (s.retired && s.active === 0) s.model.dispose();
  };
  /** Run `f` on the current model, holding it until `f` is done (a reload meanwhile leaves it alive). */
  const withModel = async <T>(f: (m: ServingModel) => T | Promise<T>): Promise<T> => {
    const s = slot;
    s.active++;
    try {
      return await f(s.model);
    } finally {
      release(s);
    }
  };
  const reload = (): Promise<ModelInfo> => {
    if (reloading) return reloading;
    reloading = (async () => {
      const next = await opts.load(generation + 1); // fully loaded and warmed before the swap
      generation++;
      const old = slot;
      slot = { model: next, active: 0, retired: false };
      old.retired = true;
      if (old.active === 0) old.model.dispose();
      return next.info;
    })().finally(() => {
      reloading = null;
    });
    return reloading;
  };

  app.setErrorHandler((err: FastifyError | BstError | Error, req: FastifyRequest, reply: FastifyReply) => {
    let status: number;
    let field: string | undefined;
    if (err instanceof RequestError) ((status = err.status), (field = err.field));
    else if ((err as FastifyError).validation) status = 400;
    else if (err instanceof ConfigError) status = 400;
    else if (err instanceof DataError) status = 422;
    else if ((err as FastifyError).statusCode && (err as FastifyError).statusCode! < 500)
      status = (err as FastifyError).statusCode!;
    else status = 500;
    if (status >= 500) req.log.error(err);
    const code = (err as FastifyError).code;
    const message =
      code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? `content-type ${JSON.stringify(req.headers['content-type'] ?? '')}: unsupported; send application/json`
        : code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? `body: ${req.headers['content-length'] ?? 'more than the limit of'} bytes is too large (limit ${bodyLimit} bytes)`
          : status >= 500 && !(err instanceof BstError)
            ? `internal error: ${err.message}`
            : err.message;
    void reply
      .code(status)
      .send({ statusCode: status, error: STATUS_TEXT[status] ?? 'Error', message, ...(field ? { field } : {}) });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send({ statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  app.get('/healthz', async () => ({ ok: true, generation, reloading: reloading !== null }));
  app.get('/model', async () => withModel((m) => m.info));
  app.post('/admin/reload', async (req, reply) => {
    try {
      const info = await reload();
      opts.onAdminReload?.();
      return { reloaded: true, generation: info.generation, loadedAt: info.loadedAt };
    } catch (e) {
      req.log.error(e);
      return reply.code(500).send({
        statusCode: 500,
        error: STATUS_TEXT[500],
        message: `reload failed (${(e as Error).message}); still serving generation ${generation}`,
      });
    }
  });

  app.post<{ Body: RecommendRequest }>('/recommend', { schema: { body: RECOMMEND_SCHEMA } }, async (req) => {
    const body = req.body ?? {};
    if (body.userId === undefined && body.movies === undefined)
      throw new RequestError(
        'body: give userId (a known user) or movies (an anonymous history of movie ids)',
        400,
        'userId',
      );
    if (body.userId !== undefined && body.movies !== undefined)
      throw new RequestError(
        `body: give userId or movies, not both (got userId ${body.userId} and ${body.movies.length} movies)`,
        400,
        'movies',
      );
    if (body.ratings !== undefined && body.movies === undefined)
      throw new RequestError('body.ratings: only with movies (an anonymous history)', 400, 'ratings');
    return withModel((m) => m.recommender.recommend(body));
  });

  app.get<{ Querystring: { query?: string; limit?: number } }>(
    '/movies',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            query: { type: 'string', maxLength: LIMITS.query },
            limit: { type: 'integer', minimum: 1, maximum: LIMITS.search, default: 20 },
          },
        },
      },
    },
    async (req) =>
      withModel((m) => ({
        query: req.query.query ?? '',
        movies: m.search(req.query.query ?? '', req.query.limit ?? 20),
      })),
  );

  const idParams = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } as const;
  app.get<{ Params: { id: number } }>('/movies/:id', { schema: { params: idParams } }, async (req) =>
    withModel((m) => m.movie(req.params.id)),
  );
  app.get<{ Params: { id: number }; Querystring: { k?: number } }>(
    '/movies/:id/similar',
    {
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { k: { type: 'integer', minimum: 1, maximum: LIMITS.similar, default: 10 } },
        },
      },
    },
    async (req) =>
      withModel((m) => ({ movie: m.movie(req.params.id), similar: m.similar(req.params.id, req.query.k ?? 10) })),
  );

  const webRoot = opts.webRoot === undefined ? path.join(__dirname, 'web') : opts.webRoot;
  if (webRoot && fs.existsSync(webRoot)) await app.register(fastifyStatic, { root: webRoot, prefix: '/' });

  app.decorate('reload', reload);
  app.decorate('current', () => slot.model);
  await app.ready();
  return app as unknown as ServeApp;
}

/**
 * Load and fault probes against a listening service (loopback), shared by bench/serve.ts and the short load
 * test: `loadRun` (autocannon for a bounded time: requests/s, p50/p99 latency, errors), `faultProbe` (malformed
 * JSON, huge bodies, unknown ids, negative k: each must get its 4xx) and `slowClients` (sockets that send
 * headers and stall: the server must close them). autocannon is a dev dependency, loaded on first use.
 */
import * as net from 'net';

/** One request body of a load run. */
export type Body = Record<string, unknown>;

/** Options of `loadRun`. */
export interface LoadOptions {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  connections: number;
  /** seconds */
  duration: number;
  /** bodies POSTed to /recommend, in turn; or a function of the request number (0, 1, ...) */
  bodies: Body[] | ((n: number) => Body);
  /** called once the run has started (e.g. to fire a reload mid-run) */
  during?: () => void | Promise<void>;
}

/** What `loadRun` measured. */
export interface LoadResult {
  connections: number;
  seconds: number;
  requests: number;
  /** mean requests per second */
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** connection errors and timeouts */
  errors: number;
  timeouts: number;
  /** responses outside 2xx */
  non2xx: number;
}

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
type Autocannon = ((o: Record<string, unknown>) => Promise<AutocannonResult>) & { track?: unknown };

/** POST /recommend at `connections` concurrent connections for `duration` seconds (bodies in turn). */
export async function loadRun(o: LoadOptions): Promise<LoadResult> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const autocannon = require('autocannon') as Autocannon;
  let next = 0;
  const run = autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.duration,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/recommend',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req: Record<string, unknown>) => {
          const n = next++;
          const b = typeof o.bodies === 'function' ? o.bodies(n) : o.bodies[n % o.bodies.length];
          return { ...req, body: JSON.stringify(b) };
        },
      },
    ],
  });
  if (o.during) await o.during();
  const r = await run;
  return {
    connections: o.connections,
    seconds: r.duration,
    requests: r.requests.total,
    rps: r.requests.average,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
  };
}

/** One fault tried and what came back. */
export interface FaultResult {
  name: string;
  status: number;
  message: string;
  /** status in the expected 4xx */
  ok: boolean;
}

/** Bad requests of every kind the issue lists; `movieId` / `userId` must be known ids (to build valid parts). */
export function faultCases(o: { movieId: number }): { name: string; expect: number; body: string; type?: string }[] {
  return [
    { name: 'malformed JSON', expect: 400, body: '{"movies": [' },
    {
      name: 'huge body (1 MB)',
      expect: 413,
      body: JSON.stringify({ movies: [o.movieId], exclude: Array.from({ length: 150_000 }, (_, i) => i + 1) }),
    },
    { name: 'unknown user id', expect: 404, body: JSON.stringify({ userId: 987654321 }) },
    { name: 'unknown movie id', expect: 422, body: JSON.stringify({ movies: [o.movieId, 987654321] }) },
    { name: 'negative k', expect: 400, body: JSON.stringify({ movies: [o.movieId], k: -5 }) },
    { name: 'diversity out of range', expect: 400, body: JSON.stringify({ movies: [o.movieId], diversity: -1 }) },
    { name: 'wrong content type', expect: 415, body: '<movies/>', type: 'application/xml' },
  ];
}

/** POST every fault case once; each result says whether the expected status came back. */
export async function faultProbe(url: string, movieId: number): Promise<FaultResult[]> {
  const out: FaultResult[] = [];
  for (const c of faultCases({ movieId })) {
    let r: Response;
    try {
      r = await fetch(`${url}/recommend`, {
        method: 'POST',
        headers: { 'content-type': c.type ?? 'application/json' },
        body: c.body,
      });
    } catch (e) {
      out.push({ name: c.name, status: 0, message: `no response: ${(e as Error).message}`, ok: false });
      continue;
    }
    const text = await r.text();
    let message = text;
    try {
      message = String((JSON.parse(text) as { message?: string }).message ?? text);
    } catch {
      /* keep the text */
    }
    out.push({ name: c.name, status: r.status, message: message.slice(0, 160), ok: r.status === c.expect });
  }
  return out;
}

/** What `slowClients` saw. */
export interface SlowResult {
  clients: number;
  /** sockets the server closed before `waitMs` */
  closedByServer: number;
  /** ms from the stall to the server closing each socket: median */
  medianCloseMs: number;
}

/**
 * Open `clients` sockets that send a request line and part of the headers, then stall; wait up to `waitMs`
 * for the server to close them (its idle timeout). Sockets still open then are destroyed here.
 */
export async function slowClients(url: string, clients: number, waitMs: number): Promise<SlowResult> {
  const { hostname, port } = new URL(url);
  const times = await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise<number>((resolve) => {
          const t0 = Date.now();
          const s: net.Socket = net.connect(Number(port), hostname, () =>
            s.write('POST /recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'),
          );
          const timer = setTimeout(() => {
            s.destroy();
            resolve(-1);
          }, waitMs);
          s.on('error', () => undefined);
          s.on('close', () => {
            clearTimeout(timer);
            resolve(Date.now() - t0);
          });
        }),
    ),
  );
  const closed = times.filter((t) => t >= 0).sort((a, b) => a - b);
  return {
    clients,
    closedByServer: closed.length,
    medianCloseMs: closed.length ? closed[Math.floor(closed.length / 2)] : NaN,
  };
}

/** A markdown table of load results. */
export function loadTable(rows: (LoadResult & { label?: string })[]): string {
  const lines = [
    '| run | connections | seconds | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | timeouts | non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.label ?? 'recommend'} | ${r.connections} | ${r.seconds.toFixed(1)} | ${r.requests} | ${r.rps.toFixed(1)} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${r.errors} | ${r.timeouts} | ${r.non2xx} |`,
    );
  }
  return lines.join('\n');
}

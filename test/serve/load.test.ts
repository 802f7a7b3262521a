/**
 * A short, bounded load and fault test on loopback (the numbers against the targets are bench/serve.ts's):
 * autocannon at 10 connections for 2 s with a reload in the middle drops nothing; malformed JSON, huge
 * bodies, unknown ids and negative k each get their 4xx; clients that send headers and stall are closed by the
 * idle timeout while the service keeps answering; `bst serve` reloads on SIGHUP and exits cleanly on SIGTERM.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { faultProbe, loadRun, slowClients } from '../../lib/app/serve/load';
import { loadServingModel } from '../../lib/app/serve/model';
import { buildServer, ServeApp } from '../../lib/app/serve/server';
import { DATA_DIR, trainTinyRun } from './helpers';

let runDir: string;
let app: ServeApp;
let url: string;

beforeAll(async () => {
  runDir = await trainTinyRun('bst-serve-load-');
  app = await buildServer({
    load: (generation) => loadServingModel(runDir, { dataDir: DATA_DIR, generation }),
    connectionTimeout: 3000,
    webRoot: null,
  });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app?.close();
  if (runDir) fs.rmSync(path.dirname(runDir), { recursive: true, force: true });
});

test('10 connections for 2 s with a reload mid-run: every request answered 2xx, no errors', async () => {
  const bodies = [
    { userId: 1 },
    { movies: [50, 172, 181] },
    { userId: 42, diversity: 0.7 },
    { movies: [1, 2, 3], ratings: [5, 3, 4], exclude: [4] },
  ];
  let reloaded = 0; // a reload blocks the event loop while the data is prepared (about 1 s here): requests queue, none is dropped
  const r = await loadRun({
    url,
    connections: 10,
    duration: 2,
    bodies,
    during: async () => {
      await new Promise((res) => setTimeout(res, 500));
      reloaded = ((await (await fetch(`${url}/admin/reload`, { method: 'POST' })).json()) as { generation: number })
        .generation;
    },
  });
  console.log(
    `load test (tiny ml-100k model, in-process): ${r.requests} requests, ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`,
  );
  expect(reloaded).toBe(2);
  expect(r.requests).toBeGreaterThan(0);
  expect({ errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx }).toEqual({ errors: 0, timeouts: 0, non2xx: 0 });
});

test('faults: each bad request gets its 4xx; stalled clients are closed by the idle timeout while the service answers', async () => {
  const faults = await faultProbe(url, 50);
  for (const f of faults)
    expect({ name: f.name, ok: f.ok, status: f.status }).toMatchObject({ name: f.name, ok: true });
  const stalled = slowClients(url, 5, 8000);
  const health = await fetch(`${url}/healthz`); // answered while 5 sockets hang
  expect(health.status).toBe(200);
  const s = await stalled;
  expect(s.closedByServer).toBe(5);
  expect(s.medianCloseMs).toBeGreaterThanOrEqual(2500); // the idle timeout, 3 s
  expect(s.medianCloseMs).toBeLessThan(6000);
  expect(
    (
      await fetch(`${url}/recommend`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"userId": 1}',
      })
    ).status,
  ).toBe(200);
});

/** `node scripts/bst.js serve <args>` as a child process, its stdout and stderr collected in `out()`. */
function bstServe(args: string[]): { child: ReturnType<typeof spawn>; out: () => string } {
  const root = path.resolve(__dirname, '../..');
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'bst.js'), 'serve', ...args], {
    cwd: root,
    env: process.env,
  });
  let text = '';
  child.stdout!.on('data', (d) => (text += String(d)));
  child.stderr!.on('data', (d) => (text += String(d)));
  return { child, out: () => text };
}

test('bst serve: listens, reloads on SIGHUP, exits 0 on SIGTERM', async () => {
  const { child, out } = bstServe(['--model', runDir, '--port', '0', '--data-dir', DATA_DIR]);
  const waitFor = (re: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = out().match(re);
        if (m) resolve(m);
      };
      child.stdout!.on('data', check);
      child.on('exit', (code) => reject(new Error(`bst serve exited ${code}: ${out()}`)));
      check();
    });
  try {
    const [, address] = await waitFor(/listening on (http:\/\/[\d.:]+)/);
    expect(((await (await fetch(`${address}/healthz`)).json()) as { generation: number }).generation).toBe(1);
    child.kill('SIGHUP');
    await waitFor(/reloaded .* \(generation 2\)/);
    expect(((await (await fetch(`${address}/healthz`)).json()) as { generation: number }).generation).toBe(2);
    expect(
      (
        await fetch(`${address}/recommend`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"movies": [50]}',
        })
      ).status,
    ).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('bst serve --workers 2: two processes on one port; /admin/reload and SIGHUP reach both; exits 0 on SIGTERM', async () => {
  const { child, out } = bstServe(['--model', runDir, '--port', '0', '--data-dir', DATA_DIR, '--workers', '2']);
  const count = (re: RegExp) => (out().match(new RegExp(re.source, 'g')) ?? []).length;
  const until = async (what: string, ok: () => boolean, ms = 60000) => {
    for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 100)))
      if (Date.now() - t0 > ms || child.exitCode !== null) throw new Error(`no ${what} after ${ms} ms: ${out()}`);
  };
  try {
    await until('two listening workers', () => count(/listening on http/) === 2);
    const address = /listening on (http:\/\/[\d.:]+)/.exec(out())![1];
    expect(new Set(out().match(/listening on http:\/\/[\d.:]+/g)).size).toBe(1); // one port
    const reloaded = await (await fetch(`${address}/admin/reload`, { method: 'POST' })).json();
    expect(reloaded).toMatchObject({ reloaded: true, generation: 2 });
    await until('the other worker reloading too', () => count(/reloaded .* \(generation 2\)/) === 1);
    child.kill('SIGHUP'); // the primary forwards it to both workers
    await until('both workers at generation 3', () => count(/reloaded .* \(generation 3\)/) === 2);
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${address}/recommend`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"movies": [50]}',
      });
      expect(r.status).toBe(200);
    }
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out()).toMatch(/stopping 2 workers/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('bst serve --workers 2 on a folder that is no run: the workers fail to start, the primary exits 1 naming it', async () => {
  const missing = path.join(os.tmpdir(), `bst-no-run-${process.pid}`);
  const { child, out } = bstServe(['--model', missing, '--port', '0', '--workers', '2']);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  expect(code).toBe(1);
  expect(out()).toContain(`${missing}: not a run folder`);
  expect(out()).toMatch(/a worker failed to start \(exit 1\)/);
}, 60000);

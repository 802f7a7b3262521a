/**
 * Download a MovieLens release from GroupLens: fetch the zip over HTTPS with a progress bar, verify its md5
 * (pinned in RELEASES, else the `.md5` file published next to the zip), unzip with fflate into a temporary
 * folder and rename it into place (or move its files into an existing incomplete folder, deleting nothing).
 * An interrupted download never leaves a folder that later loads.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import { unzipSync } from 'fflate';
import { DownloadError } from '../util/errors';
import { ReleaseName, ReleaseSpec, hasReleaseFiles, releaseSpec } from './formats';

/** The subset of `fetch` the downloader uses (inject one in tests). */
export type FetchLike = (url: string) => Promise<{
  ok: boolean;
  status: number;
  statusText?: string;
  headers: { get(name: string): string | null };
  body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
}>;

/** Options of `downloadRelease` / `ensureDataset`. */
export interface DownloadOptions {
  release: ReleaseName;
  /** parent folder; the release lands in <dataDir>/<release> */
  dataDir: string;
  /** fetch implementation (default: global fetch) */
  fetch?: FetchLike;
  /** override the zip url (default: the table's GroupLens url) */
  url?: string;
  /** expected md5 (default: the table's pinned value); null = verify against the `<url>.md5` file */
  md5?: string | null;
  /** progress callback (bytes received, total or NaN); default: a progress bar on stderr when it is a TTY */
  onProgress?: (received: number, total: number) => void;
}

function manualHelp(spec: ReleaseSpec, dir: string): string {
  const files = [spec.ratings, spec.movies, spec.users, spec.genreFile].filter(Boolean).map((f) => f!.name);
  return (
    `To place the files by hand: download ${spec.url} on a connected machine, unzip it, and copy ` +
    `${files.join(', ')} from its ${spec.zipFolder}/ folder into ${dir}` +
    (spec.name === 'ml-100k'
      ? ''
      : `. Or work with the small release: BST_DATASET=ml-100k (notebooks and bst; bst also takes --dataset ml-100k), ` +
        `with BST_DATA_DIR=<folder holding ml-100k/> when it is already on this machine`)
  );
}

function progressBar(received: number, total: number): void {
  if (!process.stderr.isTTY) return;
  const mb = (b: number) => (b / 1048576).toFixed(1);
  if (Number.isFinite(total) && total > 0) {
    const w = 30;
    const f = Math.min(w, Math.round((received / total) * w));
    process.stderr.write(`\r[${'#'.repeat(f)}${'.'.repeat(w - f)}] ${mb(received)}/${mb(total)} MB`);
  } else {
    process.stderr.write(`\r${mb(received)} MB`);
  }
}

async function fetchExpectedMd5(fetchImpl: FetchLike, url: string, spec: ReleaseSpec, dir: string): Promise<string> {
  let text: string;
  try {
    const r = await fetchImpl(`${url}.md5`);
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    text = await r.text();
  } catch (e) {
    throw new DownloadError(
      `${spec.name} has no pinned checksum and ${url}.md5 could not be fetched (${(e as Error).message}). ${manualHelp(spec, dir)}`,
    );
  }
  const m = /\b([0-9a-f]{32})\b/i.exec(text);
  if (!m)
    throw new DownloadError(
      `${url}.md5 holds no md5 value: ${JSON.stringify(text.slice(0, 100))}. ${manualHelp(spec, dir)}`,
    );
  return m[1].toLowerCase();
}

/**
 * Move the release's files from `from` into the existing folder `to`, file by file; the ratings file last,
 * so an interrupted move never leaves a folder that loads. Nothing in `to` is deleted: a file of the same
 * name (e.g. a partial copy) is first moved to the same place under `aside`, which is created only then.
 */
function moveInto(from: string, to: string, aside: string, spec: ReleaseSpec): void {
  const files: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(from, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else files.push(r);
    }
  };
  walk('');
  const ratings = spec.ratings.name;
  files.sort((a, b) => Number(a === ratings) - Number(b === ratings));
  const moved: string[] = [];
  for (const rel of files) {
    const target = path.join(to, rel);
    if (fs.existsSync(target)) {
      fs.mkdirSync(path.dirname(path.join(aside, rel)), { recursive: true });
      fs.renameSync(target, path.join(aside, rel));
      moved.push(rel);
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.renameSync(path.join(from, rel), target);
  }
  if (moved.length) {
    process.stderr.write(
      `bst: ${to} already held ${moved.join(', ')}; the downloaded files replaced them and the old copies are in ${aside}\n`,
    );
  }
}

/**
 * Download, verify and unpack a release into <dataDir>/<release>. A missing folder appears only once
 * complete; into an existing (incomplete) folder only the release's files are moved, and nothing the
 * downloader did not create is deleted (same-named old files are moved to <dataDir>/<release>.replaced-<tag>/). Returns the release folder. Throws a DownloadError saying what failed and how to place
 * the files by hand when offline, on an HTTP error or on a checksum mismatch.
 */
export async function downloadRelease(opts: DownloadOptions): Promise<string> {
  const spec = releaseSpec(opts.release);
  const dir = path.join(opts.dataDir, spec.name);
  const url = opts.url ?? spec.url;
  const fetchImpl: FetchLike = opts.fetch ?? ((u: string) => fetch(u) as any);
  const onProgress = opts.onProgress ?? progressBar;
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const tag = `${process.pid}-${Date.now()}`;
  const zipTmp = path.join(opts.dataDir, `.${spec.name}.zip.part-${tag}`);
  const dirTmp = path.join(opts.dataDir, `.${spec.name}.tmp-${tag}`);
  try {
    let res;
    try {
      res = await fetchImpl(url);
    } catch (e) {
      const cause = (e as any)?.cause?.message ?? (e as Error).message;
      throw new DownloadError(`could not download ${url} (offline? ${cause}). ${manualHelp(spec, dir)}`);
    }
    if (!res.ok || !res.body) {
      throw new DownloadError(
        `download of ${url} failed: HTTP ${res.status} ${res.statusText ?? ''}. ${manualHelp(spec, dir)}`,
      );
    }
    const total = Number(res.headers.get('content-length') ?? NaN);
    const hash = createHash('md5');
    const chunks: Uint8Array[] = [];
    let received = 0;
    const fd = fs.openSync(zipTmp, 'w');
    try {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        hash.update(value);
        chunks.push(value);
        fs.writeSync(fd, value);
        received += value.length;
        onProgress(received, total);
      }
      fs.fsyncSync(fd);
    } catch (e) {
      if (e instanceof DownloadError) throw e;
      throw new DownloadError(
        `download of ${url} was interrupted after ${received} bytes (${(e as Error).message}). ${manualHelp(spec, dir)}`,
      );
    } finally {
      fs.closeSync(fd);
      if (opts.onProgress === undefined && process.stderr.isTTY) process.stderr.write('\n');
    }
    if (Number.isFinite(total) && received !== total) {
      throw new DownloadError(
        `download of ${url} is incomplete: ${received} of ${total} bytes. ${manualHelp(spec, dir)}`,
      );
    }
    const got = hash.digest('hex');
    const pinned = opts.md5 !== undefined ? opts.md5 : spec.md5;
    const expected = (pinned ?? (await fetchExpectedMd5(fetchImpl, url, spec, dir))).toLowerCase();
    if (got !== expected) {
      throw new DownloadError(
        `checksum mismatch for ${url}: md5 ${got}, expected ${expected}. ${manualHelp(spec, dir)}`,
      );
    }
    // unzip only the release's folder, stripping it, into a temporary folder, then rename into place
    const data = Buffer.concat(chunks);
    chunks.length = 0;
    let files: Record<string, Uint8Array>;
    try {
      files = unzipSync(data);
    } catch (e) {
      throw new DownloadError(`${url} is not a readable zip (${(e as Error).message}). ${manualHelp(spec, dir)}`);
    }
    fs.mkdirSync(dirTmp, { recursive: true });
    for (const [name, bytes] of Object.entries(files)) {
      if (name.endsWith('/')) continue;
      const rel = name.startsWith(spec.zipFolder + '/') ? name.slice(spec.zipFolder.length + 1) : name;
      if (rel.includes('..') || path.isAbsolute(rel)) continue;
      const out = path.join(dirTmp, rel);
      try {
        fs.mkdirSync(path.dirname(out), { recursive: true });
        fs.writeFileSync(out, bytes);
      } catch (e) {
        // odd entries: a file and a folder of the same name, names the file system refuses
        throw new DownloadError(
          `${url}: zip entry ${JSON.stringify(name)} cannot be unpacked (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). ${manualHelp(spec, dir)}`,
        );
      }
    }
    if (!hasReleaseFiles(dirTmp, spec)) {
      throw new DownloadError(`${url} does not contain the files of ${spec.name}. ${manualHelp(spec, dir)}`);
    }
    if (fs.existsSync(dir)) moveInto(dirTmp, dir, path.join(opts.dataDir, `${spec.name}.replaced-${tag}`), spec);
    else fs.renameSync(dirTmp, dir);
    return dir;
  } finally {
    fs.rmSync(zipTmp, { force: true });
    fs.rmSync(dirTmp, { recursive: true, force: true });
  }
}

/**
 * Return the folder of a release under `dataDir`, downloading it first when its files are missing.
 * With `download: false` a missing release throws a DownloadError explaining how to place the files by hand.
 */
export async function ensureDataset(opts: DownloadOptions & { download?: boolean }): Promise<string> {
  const spec = releaseSpec(opts.release);
  const dir = path.join(opts.dataDir, spec.name);
  if (hasReleaseFiles(dir, spec)) return dir;
  if (opts.download === false) {
    throw new DownloadError(`release ${spec.name} is not in ${dir} and downloading is off. ${manualHelp(spec, dir)}`);
  }
  return downloadRelease(opts);
}

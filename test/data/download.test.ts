/** Downloader against a local http server on 127.0.0.1 and an injected fetch: never the network. */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { createHash } from 'crypto';
import { AddressInfo } from 'net';
import { zipSync, strToU8 } from 'fflate';
import { downloadRelease, ensureDataset, loadMovieLens } from '../../lib/data';
import { DownloadError } from '../../lib/util/errors';
import { tmpDir, ML100K_FILES } from './fixtures';

const zipBytes = zipSync({
  'ml-100k': Object.fromEntries(Object.entries(ML100K_FILES).map(([k, v]) => [k, strToU8(v, true)])),
});
const md5 = createHash('md5').update(zipBytes).digest('hex');

let server: http.Server;
let base = '';
beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/ml-100k.zip') {
      res.writeHead(200, { 'content-length': String(zipBytes.length) });
      res.end(Buffer.from(zipBytes));
    } else if (req.url === '/ml-100k.zip.md5') {
      res.end(`MD5 (ml-100k.zip) = ${md5}\n`);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const leftovers = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('.'));

test('downloads, verifies, unzips and the release loads', async () => {
  const dataDir = tmpDir();
  const seen: number[] = [];
  const dir = await downloadRelease({
    release: 'ml-100k',
    dataDir,
    url: `${base}/ml-100k.zip`,
    md5,
    onProgress: (r) => seen.push(r),
  });
  expect(dir).toBe(path.join(dataDir, 'ml-100k'));
  expect(seen[seen.length - 1]).toBe(zipBytes.length);
  expect(loadMovieLens({ dir }).ratings.numRows()).toBe(4);
  expect(leftovers(dataDir)).toEqual([]);
  // already there: ensureDataset does not fetch again
  const fetchSpy = jest.fn();
  expect(await ensureDataset({ release: 'ml-100k', dataDir, fetch: fetchSpy as any })).toBe(dir);
  expect(fetchSpy).not.toHaveBeenCalled();
});

test('without a pinned checksum it verifies against the published .md5 file', async () => {
  const dataDir = tmpDir();
  const dir = await downloadRelease({
    release: 'ml-100k',
    dataDir,
    url: `${base}/ml-100k.zip`,
    md5: null,
    onProgress: () => {},
  });
  expect(fs.existsSync(path.join(dir, 'u.data'))).toBe(true);
});

test('a bad checksum fails clearly and leaves no dataset behind', async () => {
  const dataDir = tmpDir();
  const p = downloadRelease({
    release: 'ml-100k',
    dataDir,
    url: `${base}/ml-100k.zip`,
    md5: '0'.repeat(32),
    onProgress: () => {},
  });
  await expect(p).rejects.toThrow(DownloadError);
  await expect(
    downloadRelease({
      release: 'ml-100k',
      dataDir,
      url: `${base}/ml-100k.zip`,
      md5: '0'.repeat(32),
      onProgress: () => {},
    }),
  ).rejects.toThrow(/checksum mismatch.*place the files by hand/);
  expect(fs.readdirSync(dataDir)).toEqual([]);
});

test('offline, HTTP errors and interrupted downloads say what failed and how to place files by hand', async () => {
  const dataDir = tmpDir();
  const offline = async () => {
    throw Object.assign(new TypeError('fetch failed'), {
      cause: new Error('getaddrinfo ENOTFOUND files.grouplens.org'),
    });
  };
  await expect(ensureDataset({ release: 'ml-1m', dataDir, fetch: offline as any })).rejects.toThrow(
    /could not download https:\/\/files\.grouplens\.org\/datasets\/movielens\/ml-1m\.zip.*ENOTFOUND.*ratings\.dat, movies\.dat, users\.dat/,
  );
  // offline ML-1M points to the small release that may already be here
  await expect(ensureDataset({ release: 'ml-1m', dataDir, fetch: offline as any })).rejects.toThrow(
    /BST_DATASET=ml-100k/,
  );
  await expect(downloadRelease({ release: 'ml-100k', dataDir, url: `${base}/missing.zip`, md5 })).rejects.toThrow(
    /HTTP 404/,
  );
  await expect(downloadRelease({ release: 'ml-100k', dataDir, url: `${base}/missing.zip`, md5 })).rejects.not.toThrow(
    /BST_DATASET=ml-100k/,
  );
  // a body that dies half way
  let sent = 0;
  const broken = async () => ({
    ok: true,
    status: 200,
    headers: { get: () => String(zipBytes.length) },
    body: new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ === 0) c.enqueue(zipBytes.slice(0, 100));
        else c.error(new Error('connection reset'));
      },
    }),
    text: async () => '',
  });
  await expect(
    downloadRelease({ release: 'ml-100k', dataDir, fetch: broken as any, md5, onProgress: () => {} }),
  ).rejects.toThrow(/interrupted after 100 bytes/);
  expect(fs.readdirSync(dataDir)).toEqual([]);
  await expect(ensureDataset({ release: 'ml-100k', dataDir, download: false })).rejects.toThrow(/downloading is off/);
});

test("an incomplete release folder keeps the user's own files: only the release's files move in, old copies are moved aside", async () => {
  const dataDir = tmpDir();
  const dir = path.join(dataDir, 'ml-100k');
  fs.mkdirSync(path.join(dir, 'notes'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'notes', 'my-analysis.md'), 'my own notes\n');
  fs.writeFileSync(path.join(dir, 'u.data'), '1\t1\t5\n'); // a partial copy: no u.item, so the release is incomplete
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(
      await ensureDataset({ release: 'ml-100k', dataDir, url: `${base}/ml-100k.zip`, md5, onProgress: () => {} }),
    ).toBe(dir);
  } finally {
    stderr.mockRestore();
  }
  expect(fs.readFileSync(path.join(dir, 'notes', 'my-analysis.md'), 'utf8')).toBe('my own notes\n');
  expect(fs.readFileSync(path.join(dir, 'u.data'), 'utf8')).toBe(ML100K_FILES['u.data']);
  expect(loadMovieLens({ dir }).ratings.numRows()).toBe(4);
  const aside = fs.readdirSync(dataDir).filter((f) => f.startsWith('ml-100k.replaced-'));
  expect(aside.length).toBe(1);
  expect(fs.readFileSync(path.join(dataDir, aside[0], 'u.data'), 'utf8')).toBe('1\t1\t5\n');
  expect(leftovers(dataDir)).toEqual([]);
});

test('a zip with odd entries (a file and a folder of the same name) is a DownloadError naming the entry; nothing is left behind', async () => {
  const dataDir = tmpDir();
  const odd = zipSync({ 'ml-100k/u.data': strToU8('1\t1\t5\t1\n'), 'ml-100k/u.data/inner.txt': strToU8('x') });
  const fetchOdd = async () => ({
    ok: true,
    status: 200,
    headers: { get: () => String(odd.length) },
    text: async () => '',
    body: new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(odd);
        c.close();
      },
    }),
  });
  await expect(
    downloadRelease({
      release: 'ml-100k',
      dataDir,
      fetch: fetchOdd as any,
      md5: createHash('md5').update(odd).digest('hex'),
      onProgress: () => {},
    }),
  ).rejects.toThrow(/zip entry "ml-100k\/u\.data(\/inner\.txt)?" cannot be unpacked \((ENOTDIR|EISDIR|EEXIST)\)/);
  expect(fs.readdirSync(dataDir)).toEqual([]);
});

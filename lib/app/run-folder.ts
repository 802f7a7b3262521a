/**
 * Run folders that belong to one run. `bst train` writes run.json (the manifest: run id, dataset, split,
 * config, split fingerprint) before the first epoch; the checkpoints carry the same run id and fingerprint
 * (inside their vocabularies JSON, key `run`), and metrics.json repeats them. Loading a run checks that
 * the three agree and that the data still gives the recorded split.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createHash, randomBytes } from 'crypto';
import { PreparedData } from '../data/index';
import { BstConfig } from '../model/index';
import { OutputError, RunMismatchError } from '../util/errors';
import { checkWritableDir, readJson, writeJsonAtomic } from '../util/files';

/** Format tag of run.json. */
export const RUN_FORMAT = 'bst-run-1';

/** The identity of a run, stored in run.json, metrics.json and every checkpoint's meta. */
export interface RunIdentity {
  /** random id drawn when the run starts */
  id: string;
  /** hash of dataset, split options, sequence length and the train/val/test target positions */
  fingerprint: string;
}

/** run.json: written when training starts, so an interrupted run can be resumed with its own data and split. */
export interface RunManifest<S = unknown> {
  format: string;
  run: RunIdentity;
  dataset: string;
  split: S;
  config: BstConfig;
  /** the folder holding the release's folder when the run started (resume and loadRun default to it) */
  dataDir?: string;
  createdAt: string;
}

/** What a folder holding a run contains (the files `bst train` writes and --overwrite removes). */
export const RUN_FILES = ['run.json', 'metrics.json', 'checkpoints'] as const;

/** Config keys a resumed run may change (training length only; everything else must match the run). */
export const RESUMABLE_CHANGES: ReadonlyArray<keyof BstConfig> = ['epochs', 'patience'];

/** A fresh run id (time + random, sortable). */
export function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-').slice(0, 15)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Fingerprint of a split: sha256 over the release, split options, sequence length and the target positions
 * of train, val and test (16 hex digits). Two splits with the same fingerprint score the same ratings.
 */
export function splitFingerprint(release: string, split: unknown, seqLen: number, data: PreparedData): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ release, split, seqLen, n: data.interactions.user.length }));
  for (const which of ['train', 'val', 'test'] as const) {
    const p = data.positions(which);
    h.update(`|${which}:${p.length}|`);
    h.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

/** True when `dir` holds (part of) a run: run.json, metrics.json or checkpoints/. */
export function holdsRun(dir: string): boolean {
  return RUN_FILES.some((f) => fs.existsSync(path.join(dir, f)));
}

/** Read <dir>/run.json, or undefined when the folder has none (a run of an older bst, or no run). */
export function readManifest<S = unknown>(dir: string): RunManifest<S> | undefined {
  const file = path.join(dir, 'run.json');
  if (!fs.existsSync(file)) return undefined;
  const m = readJson<RunManifest<S>>(file);
  if (m.format !== RUN_FORMAT || !m.run?.id)
    throw new RunMismatchError(`${file}: format ${JSON.stringify(m.format)}, expected ${RUN_FORMAT} with a run id`);
  return m;
}

/** How to treat an output folder that already holds a run. */
export type ExistingRun = 'refuse' | 'overwrite' | 'resume';

/**
 * Make `dir` ready for a run before any work: it must be a writable folder; if it already holds a run,
 * `refuse` throws an OutputError naming the folder and the two flags, `overwrite` removes the run's own
 * files (run.json, metrics.json, checkpoints/; nothing else), `resume` requires run.json.
 * Returns the manifest of the run to resume (resume only).
 */
export function prepareRunFolder<S = unknown>(dir: string, existing: ExistingRun): RunManifest<S> | undefined {
  checkWritableDir(dir);
  const has = holdsRun(dir);
  if (existing === 'resume') {
    const m = readManifest<S>(dir);
    if (!m) {
      throw new OutputError(
        has
          ? `--resume: ${dir} has no run.json (written by an older bst): its dataset and split are unknown, so it cannot be resumed safely; train again with --overwrite`
          : `--resume: ${dir} holds no run to resume (no run.json); train without --resume`,
      );
    }
    return m;
  }
  if (!has) return undefined;
  if (existing === 'refuse') {
    throw new OutputError(
      `--out ${dir} already holds a run (${RUN_FILES.filter((f) => fs.existsSync(path.join(dir, f))).join(', ')}); ` +
        'pass --resume to continue it, --overwrite to replace it, or choose another --out',
    );
  }
  for (const f of RUN_FILES) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  return undefined;
}

/** Write run.json atomically. */
export function writeManifest(dir: string, m: RunManifest): void {
  writeJsonAtomic(path.join(dir, 'run.json'), m);
}

function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  if (x && typeof x === 'object') {
    return `{${Object.keys(x)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((x as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(x);
}

/**
 * The differences between what a resumed run asks for and what run.json recorded, as `name: recorded X,
 * asked Y` strings (config keys in RESUMABLE_CHANGES may differ).
 */
export function resumeConflicts(
  m: RunManifest,
  asked: { dataset: string; split: unknown; config: BstConfig },
): string[] {
  const out: string[] = [];
  if (asked.dataset !== m.dataset) out.push(`dataset: recorded ${m.dataset}, asked ${asked.dataset}`);
  const rs = m.split as Record<string, unknown>,
    as = asked.split as Record<string, unknown>;
  for (const k of new Set([...Object.keys(rs), ...Object.keys(as)])) {
    if (canonical(rs[k]) !== canonical(as[k]))
      out.push(`split.${k}: recorded ${canonical(rs[k])}, asked ${canonical(as[k])}`);
  }
  const rc = m.config as unknown as Record<string, unknown>,
    ac = asked.config as unknown as Record<string, unknown>;
  for (const k of new Set([...Object.keys(rc), ...Object.keys(ac)])) {
    if ((RESUMABLE_CHANGES as string[]).includes(k)) continue;
    if (canonical(rc[k]) !== canonical(ac[k]))
      out.push(`config.${k}: recorded ${canonical(rc[k])}, asked ${canonical(ac[k])}`);
  }
  return out;
}

/**
 * Check that a run folder's metrics.json and checkpoint belong to the same run. `metricsRun` / `ckptRun`:
 * the run identities recorded in metrics.json and the checkpoint's meta (undefined: an older bst or
 * `bst train-recommender`, then the checkpoint must not be newer than the metrics).
 */
export function checkSameRun(o: {
  runDir: string;
  metricsRun?: RunIdentity;
  ckptRun?: RunIdentity;
  metricsFinishedAt?: string;
  ckptSavedAt?: string;
  ckptDir: string;
}): void {
  const { metricsRun, ckptRun } = o;
  const metricsFile = path.join(o.runDir, 'metrics.json');
  if (metricsRun || ckptRun) {
    if (!metricsRun || !ckptRun || metricsRun.id !== ckptRun.id || metricsRun.fingerprint !== ckptRun.fingerprint) {
      throw new RunMismatchError(
        `${o.ckptDir} (run ${ckptRun?.id ?? 'unknown'}) and ${metricsFile} (run ${metricsRun?.id ?? 'unknown'}) belong to different runs: ` +
          'the folder was trained into again after these metrics were written; retrain it (bst train --overwrite) or use the matching folder',
      );
    }
    return;
  }
  if (o.metricsFinishedAt && o.ckptSavedAt && Date.parse(o.ckptSavedAt) > Date.parse(o.metricsFinishedAt)) {
    throw new RunMismatchError(
      `${o.ckptDir} was saved at ${o.ckptSavedAt}, after ${metricsFile} was written (${o.metricsFinishedAt}): the checkpoint belongs to a later run than the metrics and split; retrain the folder`,
    );
  }
}

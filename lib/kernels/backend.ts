/**
 * Run-time choice of the tfjs backend.
 *
 * `auto` (the default) tries the fastest first: tfjs-node-gpu (CUDA), tfjs-node (native TensorFlow on CPU),
 * wasm (WebAssembly SIMD), cpu (plain JavaScript). A backend that fails to load -- package not installed,
 * CUDA libraries missing -- falls through to the next with a one-line reason. The environment variable
 * BST_BACKEND forces one (`BST_BACKEND=wasm`). After selection the project's kernel fixes for that backend
 * are installed (lib/kernels) and the choice is printed once.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendError } from '../util/errors';
import { guardWasmMalloc, installKernelFixes, installNativeKernels } from './index';

/** Backend names accepted by BST_BACKEND, fastest first. */
export const BACKEND_ORDER = ['node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];
export type BackendChoice = BackendName | 'auto';

/** Loads one backend and returns the tfjs backend name it registered (throws when it cannot load). */
export type BackendLoader = () => Promise<string>;

/** The default loaders. Native packages are required lazily so a missing optional dependency is not fatal. */
export const DEFAULT_LOADERS: Record<BackendName, BackendLoader> = {
  'node-gpu': async () => {
    require('@tensorflow/tfjs-node-gpu');
    return 'tensorflow';
  },
  node: async () => {
    require('@tensorflow/tfjs-node');
    return 'tensorflow';
  },
  wasm: async () => {
    require('@tensorflow/tfjs-backend-wasm');
    return 'wasm';
  },
  cpu: async () => 'cpu',
};

export interface SelectBackendOptions {
  /** Which backend to use; default: env BST_BACKEND, else 'auto'. */
  choice?: string;
  /** Replaceable loaders (tests inject failing ones). */
  loaders?: Record<BackendName, BackendLoader>;
  /** Where the one-line messages go (default console.log). */
  log?: (line: string) => void;
  /** Install lib/kernels fixes for the chosen backend (default true). */
  kernelFixes?: boolean;
  /** Install bst-lab's own wasm kernels and fused ops (lib/kernels/native; default: env BST_NATIVE_KERNELS != '0'). */
  nativeKernels?: boolean;
}

export interface BackendInfo {
  /** Our name for it ('wasm', 'node-gpu', ...). */
  name: BackendName;
  /** The tfjs backend name (tf.getBackend()). */
  tfName: string;
  /** Backends tried before it, with the reason each failed. */
  skipped: Array<{ name: BackendName; reason: string }>;
  /** Kernel fixes installed (lib/kernels). */
  fixes: string[];
  /** Own kernels installed (lib/kernels/native and fused ops; [] when off or unavailable). */
  native: string[];
}

/** Parse a backend choice; throws a BackendError listing the valid names. */
export function parseBackendChoice(value: string | undefined): BackendChoice {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if ((BACKEND_ORDER as readonly string[]).includes(v)) return v as BackendName;
  throw new BackendError(
    `unknown backend ${JSON.stringify(value)} (from BST_BACKEND or the backend option); ` +
      `valid values: auto, ${BACKEND_ORDER.join(', ')}`,
  );
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 200);
}

/**
 * Select and initialise a backend. With 'auto' the candidates are tried in BACKEND_ORDER; a forced choice
 * that fails also falls through to the slower ones (with the reason printed), so a run never crashes for
 * want of CUDA. Throws only when no backend at all can start.
 */
export async function selectBackend(opts: SelectBackendOptions = {}): Promise<BackendInfo> {
  const choice = parseBackendChoice(opts.choice ?? process.env.BST_BACKEND);
  const loaders = opts.loaders ?? DEFAULT_LOADERS;
  const log = opts.log ?? ((line: string) => console.log(line));
  const start = choice === 'auto' ? 0 : BACKEND_ORDER.indexOf(choice);
  const skipped: BackendInfo['skipped'] = [];
  for (const name of BACKEND_ORDER.slice(start)) {
    try {
      const tfName = await loaders[name]();
      const ok = await tf.setBackend(tfName);
      if (!ok) throw new Error(`tf.setBackend('${tfName}') returned false`);
      await tf.ready();
      // The cpu backend's first write prints a banner recommending tfjs-node; the line below says the same.
      if (tf.getBackend() === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      // tfjs-backend-wasm does not check malloc: a full heap would overwrite live tensors; make it throw instead
      if (tf.getBackend() === 'wasm') guardWasmMalloc(tf.backend());
      const fixes = opts.kernelFixes === false ? [] : installKernelFixes(tf.getBackend());
      const useNative = opts.kernelFixes !== false && (opts.nativeKernels ?? process.env.BST_NATIVE_KERNELS !== '0');
      const native = useNative ? installNativeKernels(tf.getBackend()) : [];
      const hint =
        name === 'wasm' || name === 'cpu'
          ? ' (for native speed: npm install @tensorflow/tfjs-node, or tfjs-node-gpu with CUDA)'
          : '';
      log(
        `bst-lab: tfjs backend ${name} (${tf.getBackend()})${fixes.length ? `, kernel fixes: ${fixes.join(', ')}` : ''}${native.length ? `, own kernels: ${native.length}` : ''}${skipped.length ? hint : ''}`,
      );
      return { name, tfName: tf.getBackend(), skipped, fixes, native };
    } catch (e) {
      const reason = firstLine(e);
      skipped.push({ name, reason });
      const next = BACKEND_ORDER[BACKEND_ORDER.indexOf(name) + 1];
      log(`bst-lab: backend ${name} unavailable (${reason})${next ? `; trying ${next}` : ''}`);
    }
  }
  throw new BackendError(`no tfjs backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

let current: Promise<BackendInfo> | undefined;

/**
 * Initialise the backend once per process (later calls return the same result). Notebooks, scripts and
 * the CLI call this before building a model.
 */
export function initBackend(opts: SelectBackendOptions = {}): Promise<BackendInfo> {
  if (!current) {
    current = selectBackend(opts);
    current.catch(() => (current = undefined));
  }
  return current;
}

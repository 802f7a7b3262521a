import * as tf from '@tensorflow/tfjs';
import {
  BACKEND_ORDER,
  BackendLoader,
  BackendName,
  parseBackendChoice,
  selectBackend,
} from '../../lib/kernels/backend';
import { BackendError } from '../../lib/util/errors';

function fakeLoaders(failing: BackendName[], calls: string[]): Record<BackendName, BackendLoader> {
  const make =
    (name: BackendName, tfName: string): BackendLoader =>
    async () => {
      calls.push(name);
      if (failing.includes(name))
        throw new Error(`${name}: libcudart.so.11.0: cannot open shared object file\nstack...`);
      return tfName;
    };
  return {
    'node-gpu': make('node-gpu', 'cpu'),
    node: make('node', 'cpu'),
    wasm: make('wasm', 'cpu'),
    cpu: make('cpu', 'cpu'),
  };
}

describe('backend selection', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  test('auto tries node-gpu, node, wasm, cpu in that order and reports why each was skipped', async () => {
    const calls: string[] = [];
    const lines: string[] = [];
    const info = await selectBackend({
      choice: 'auto',
      loaders: fakeLoaders(['node-gpu', 'node', 'wasm'], calls),
      log: (l) => lines.push(l),
      kernelFixes: false,
    });
    expect(calls).toEqual(['node-gpu', 'node', 'wasm', 'cpu']);
    expect(info.name).toBe('cpu');
    expect(info.skipped.map((s) => s.name)).toEqual(['node-gpu', 'node', 'wasm']);
    // one line per skipped backend, only the first line of the error, naming the next candidate
    expect(lines[0]).toBe(
      'bst-lab: backend node-gpu unavailable (node-gpu: libcudart.so.11.0: cannot open shared object file); trying node',
    );
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^bst-lab: tfjs backend cpu/);
  });

  test('stops at the first backend that loads', async () => {
    const calls: string[] = [];
    const info = await selectBackend({
      choice: 'auto',
      loaders: fakeLoaders(['node-gpu'], calls),
      log: () => {},
      kernelFixes: false,
    });
    expect(calls).toEqual(['node-gpu', 'node']);
    expect(info.name).toBe('node');
  });

  test('a forced choice starts there and never tries faster ones', async () => {
    const calls: string[] = [];
    const info = await selectBackend({
      choice: 'WASM',
      loaders: fakeLoaders([], calls),
      log: () => {},
      kernelFixes: false,
    });
    expect(calls).toEqual(['wasm']);
    expect(info.name).toBe('wasm');
  });

  test('the environment variable BST_BACKEND is read when no choice is given', async () => {
    const calls: string[] = [];
    const saved = process.env.BST_BACKEND;
    process.env.BST_BACKEND = 'cpu';
    try {
      await selectBackend({ loaders: fakeLoaders([], calls), log: () => {}, kernelFixes: false });
    } finally {
      if (saved === undefined) delete process.env.BST_BACKEND;
      else process.env.BST_BACKEND = saved;
    }
    expect(calls).toEqual(['cpu']);
  });

  test('an unknown name is an error that lists the valid ones', () => {
    expect(() => parseBackendChoice('gpu')).toThrow(BackendError);
    expect(() => parseBackendChoice('gpu')).toThrow(
      'unknown backend "gpu" (from BST_BACKEND or the backend option); valid values: auto, node-gpu, node, wasm, cpu',
    );
    expect(parseBackendChoice(undefined)).toBe('auto');
    expect(parseBackendChoice(' Auto ')).toBe('auto');
    expect(BACKEND_ORDER).toEqual(['node-gpu', 'node', 'wasm', 'cpu']);
  });

  test('when nothing loads, the error names every backend and its reason', async () => {
    await expect(
      selectBackend({
        choice: 'auto',
        loaders: fakeLoaders([...BACKEND_ORDER], []),
        log: () => {},
        kernelFixes: false,
      }),
    ).rejects.toThrow(/no tfjs backend could start: node-gpu: .*; node: .*; wasm: .*; cpu: cpu: libcudart/);
  });

  const resolvable = (m: string) => {
    try {
      require.resolve(m);
      return true;
    } catch {
      return false;
    }
  };
  const noNative = !resolvable('@tensorflow/tfjs-node-gpu') && !resolvable('@tensorflow/tfjs-node');
  // On this project's machines libtensorflow cannot be downloaded, so neither native package is installed.
  (noNative ? test : test.skip)('the real loaders: without native packages, auto falls through to wasm', async () => {
    const lines: string[] = [];
    const info = await selectBackend({ choice: 'auto', log: (l) => lines.push(l), kernelFixes: false });
    expect(info.skipped.map((s) => s.name)).toEqual(['node-gpu', 'node']);
    expect(info.skipped[0].reason).toMatch(/Cannot find module '@tensorflow\/tfjs-node-gpu'/);
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });
});

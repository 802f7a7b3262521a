/**
 * scripts/build-kernels.ts refuses C that would corrupt tfjs's memory: static data, stack use, libc calls.
 * Compiles small C files with the real toolchain (Debian 12's clang 16, which .ci/run installs).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkModule, checkObjectSymbols, COMPILE } from '../../scripts/build-kernels';

function has(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const TOOLS = has('clang-16') && has('llvm-nm-16');
if (!TOOLS)
  console.warn(
    'build.test: clang-16 / llvm-nm-16 not installed (apt-get install clang-16 lld-16 llvm-16); compile checks skipped',
  );
const itTools = TOOLS ? it : it.skip;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-build-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** llvm-nm's listing of `source` compiled the way build-kernels compiles. */
function symbolsOf(name: string, source: string): string {
  const c = path.join(dir, `${name}.c`);
  const o = path.join(dir, `${name}.o`);
  fs.writeFileSync(c, source);
  execFileSync('clang-16', [...COMPILE.filter((f) => f !== '-Werror'), '-c', '-o', o, c]);
  return execFileSync('llvm-nm-16', [o], { encoding: 'utf8' });
}

describe('build-kernels checks', () => {
  itTools('accept the real kernels source', () => {
    const src = fs.readFileSync(path.join(__dirname, '../../lib/kernels/native/bst_kernels.c'), 'utf8');
    expect(checkObjectSymbols(symbolsOf('kernels', src))).toEqual([]);
  });

  itTools('name static data, stack use and libc calls', () => {
    const table = symbolsOf(
      'table',
      'static const float T[4] = {1, 2, 3, 4};\n__attribute__((export_name("f"))) float f(int i) { return T[i & 3]; }\n',
    );
    expect(checkObjectSymbols(table).join('; ')).toMatch(/static data T/);
    const stack = symbolsOf(
      'stack',
      '__attribute__((export_name("f"))) float f(int i) { volatile float a[64]; for (int k = 0; k < 64; k++) a[k] = k; return a[i & 63]; }\n',
    );
    expect(checkObjectSymbols(stack)).toEqual(['code that uses the stack (__stack_pointer)']);
    const libc = symbolsOf(
      'libc',
      'float expf(float);\n__attribute__((export_name("f"))) float f(float x) { return expf(x); }\n',
    );
    expect(checkObjectSymbols(libc)).toEqual(['a call to expf (no libc here)']);
  });

  it('accept the committed modules: no data section, only the memory imported', () => {
    for (const f of ['bst_kernels.wasm', 'bst_kernels_relaxed.wasm']) {
      expect(checkModule(fs.readFileSync(path.join(__dirname, '../../lib/kernels/native', f)))).toEqual([]);
    }
  });
});

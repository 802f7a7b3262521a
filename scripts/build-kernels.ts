/**
 * Build bst-lab's own wasm kernels: lib/kernels/native/bst_kernels.c -> bst_kernels.wasm (SIMD) and
 * bst_kernels_relaxed.wasm (relaxed-SIMD fused multiply-add), both committed so users need no compiler. Needs
 * Debian 12's clang 16 toolchain (`apt-get install clang-16 lld-16 llvm-16`; clang 14 encodes relaxed SIMD
 * with pre-standard opcodes that no runtime accepts).
 *
 *   npm run build:kernels            # build and write both .wasm files
 *   npm run build:kernels -- --check # rebuild into a temp folder; fail unless both equal the committed files
 *
 * The module shares the tfjs wasm backend's memory, so the build fails when the linked module has a data
 * section, any global (the C stack pointer), or an import other than env.memory.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { writeFileAtomic } from '../lib/util/files';
import { WASM } from '../lib/kernels/native-module';

const DIR = path.join(__dirname, '..', 'lib', 'kernels', 'native');
const SOURCE = path.join(DIR, 'bst_kernels.c');
const OUTPUTS = [
  { file: path.join(DIR, 'bst_kernels.wasm'), flags: [] as string[] },
  { file: path.join(DIR, 'bst_kernels_relaxed.wasm'), flags: ['-mrelaxed-simd', '-DBST_RELAXED_SIMD'] },
];
const CLANG = process.env.CLANG ?? 'clang-16';

const NM = process.env.LLVM_NM ?? 'llvm-nm-16';
export const COMPILE = [
  '--target=wasm32',
  '-O3',
  '-msimd128',
  '-mbulk-memory',
  '-ffreestanding',
  '-fno-exceptions',
  '-Wall',
  '-Werror',
];
// no stack reserved: the linker still defines an (unused) stack pointer global; the object check below proves
// that no code touches it
const LINK = [
  '--target=wasm32',
  '-nostdlib',
  '-Wl,--no-entry',
  '-Wl,--import-memory',
  '-Wl,--strip-all',
  '-Wl,-z,stack-size=0',
];

/** Read an unsigned LEB128 at `pos`; returns [value, next position]. */
function leb(buf: Buffer, pos: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    v += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return [v, pos];
    shift += 7;
  }
}

/**
 * Problems in the compiled object (llvm-nm's symbol list) that make the code unsafe inside tfjs's memory: any
 * symbol that is not a function (static data, constants) or any undefined one (the stack pointer, libc calls).
 */
export function checkObjectSymbols(nmOutput: string): string[] {
  const problems: string[] = [];
  for (const line of nmOutput.split('\n')) {
    const m = /^\s*([0-9a-f]*)\s+([A-Za-z])\s+(\S+)$/.exec(line);
    if (!m) continue;
    const [, , kind, name] = m;
    if (kind === 'U')
      problems.push(
        name === '__stack_pointer' ? 'code that uses the stack (__stack_pointer)' : `a call to ${name} (no libc here)`,
      );
    else if (kind !== 'T' && kind !== 't') problems.push(`static data ${name} (symbol type ${kind})`);
  }
  return problems;
}

/** Problems that make the linked module unsafe to run inside tfjs's memory ([] when none). */
export function checkModule(bytes: Buffer): string[] {
  const problems: string[] = [];
  const names: Record<number, string> = { 11: 'data (static data)', 12: 'data count' };
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, body] = leb(bytes, pos + 1);
    if (names[id]) {
      const [count] = leb(bytes, body);
      if (count > 0) problems.push(`a ${names[id]} section with ${count} entries`);
    }
    pos = body + size;
  }
  if (/^v20\./.test(process.version)) require('v8').setFlagsFromString('--experimental-wasm-relaxed-simd'); // to inspect the relaxed build
  const mod = new WASM.Module(bytes);
  for (const imp of WASM.Module.imports(mod)) {
    if (!(imp.module === 'env' && imp.name === 'memory' && imp.kind === 'memory'))
      problems.push(`an import ${imp.module}.${imp.name} (${imp.kind})`);
  }
  return problems;
}

function run(tool: string, args: string[], what: string): string {
  try {
    return execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT')
      throw new Error(
        `${tool} not found: install Debian's clang 16 toolchain (apt-get install clang-16 lld-16 llvm-16)`,
      );
    throw new Error(`${what} failed (see the compiler output above)`);
  }
}

function build(out: string, flags: string[]): void {
  const obj = `${out}.o`;
  run(CLANG, [...COMPILE, ...flags, '-c', '-o', obj, SOURCE], `compiling ${SOURCE}`);
  const objProblems = checkObjectSymbols(run(NM, [obj], 'llvm-nm'));
  if (objProblems.length)
    throw new Error(`${SOURCE}: kernels must use no static data, stack or libc; found ${objProblems.join('; ')}`);
  run(CLANG, [...LINK, '-o', out, obj], `linking ${obj}`);
  const problems = checkModule(fs.readFileSync(out));
  if (problems.length)
    throw new Error(`${SOURCE}: the module must have no static data, stack or imports; found ${problems.join('; ')}`);
}

function main(): void {
  const check = process.argv.includes('--check');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-kernels-'));
  try {
    for (const o of OUTPUTS) {
      const built = path.join(tmp, path.basename(o.file));
      build(built, o.flags);
      const bytes = fs.readFileSync(built);
      const rel = path.relative(process.cwd(), o.file);
      if (check) {
        if (!fs.existsSync(o.file)) throw new Error(`${rel} is missing: run npm run build:kernels and commit it`);
        if (!bytes.equals(fs.readFileSync(o.file))) {
          throw new Error(
            `${rel} differs from a fresh build of ${path.basename(SOURCE)}: run npm run build:kernels and commit it`,
          );
        }
        console.log(`build:kernels --check: ${rel} matches a fresh build (${bytes.length} bytes)`);
      } else {
        writeFileAtomic(o.file, bytes);
        console.log(`build:kernels: wrote ${rel} (${bytes.length} bytes, no data, no stack)`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(`build:kernels: ${(e as Error).message}`);
    process.exit(1);
  }
}

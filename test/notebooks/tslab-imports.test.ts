/**
 * lib must be loadable by tslab, the notebooks' kernel. tslab runs the compiled lib files from memory and
 * resolves a relative import `X` from a file in folder D to the file D/X.js only:
 *  - a folder import (`from './layers'`) is not found (there is no layers.js; Node's fallback finds no
 *    layers/index.js on disk either): write `from './layers/index'`;
 *  - a bare import whose name equals a sibling file (`import 'fs'` inside lib/util/fs.ts) resolves to that
 *    file itself and recurses until the stack overflows: write `from 'node:fs'` or rename the file;
 *  - an import cycle (a.ts imports b.ts imports a.ts) also recurses until the stack overflows: tslab keeps no
 *    module cache while a file loads. `import type` is erased and does not count.
 * Fast (reads the sources only); the notebook runs catch the rest.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from './helpers';

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function imports(src: string): string[] {
  const out: string[] = [];
  for (const m of src.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)) out.push(m[1]);
  return out;
}

describe('lib is importable by tslab', () => {
  const files = tsFiles(path.join(ROOT, 'lib'));

  test('no relative import names a folder', () => {
    const bad: string[] = [];
    for (const f of files) {
      for (const spec of imports(fs.readFileSync(f, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        if (
          fs.existsSync(path.resolve(path.dirname(f), spec)) &&
          fs.statSync(path.resolve(path.dirname(f), spec)).isDirectory()
        ) {
          bad.push(`${path.relative(ROOT, f)}: '${spec}' is a folder; import '${spec}/index'`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  test('no bare import shares its name with a file next to the importer', () => {
    const bad: string[] = [];
    for (const f of files) {
      const dir = path.dirname(f);
      for (const spec of imports(fs.readFileSync(f, 'utf8'))) {
        if (spec.startsWith('.') || spec.startsWith('node:') || spec.startsWith('/')) continue;
        if (fs.existsSync(path.join(dir, spec + '.ts')) || fs.existsSync(path.join(dir, spec + '.js'))) {
          bad.push(
            `${path.relative(ROOT, f)}: '${spec}' resolves to ${path.relative(ROOT, path.join(dir, spec))}.ts under tslab; import 'node:${spec}'`,
          );
        }
      }
    }
    expect(bad).toEqual([]);
  });

  test('no runtime import cycle among lib files', () => {
    const target = (from: string, spec: string): string | undefined => {
      const t = path.resolve(path.dirname(from), spec);
      if (fs.existsSync(t + '.ts')) return t + '.ts';
      if (fs.existsSync(path.join(t, 'index.ts'))) return path.join(t, 'index.ts');
      return undefined;
    };
    const edges = new Map<string, string[]>();
    for (const f of files) {
      const src = fs.readFileSync(f, 'utf8');
      const deps: string[] = [];
      // value imports and re-exports only: `import type` / `export type` are erased by the compiler
      for (const m of src.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+['"](\.[^'"]+)['"]/gm)) {
        const t = target(f, m[1]);
        if (t) deps.push(t);
      }
      edges.set(f, deps);
    }
    const cycles: string[] = [];
    const state = new Map<string, 1 | 2>();
    const stack: string[] = [];
    const visit = (u: string): void => {
      state.set(u, 1);
      stack.push(u);
      for (const v of edges.get(u) ?? []) {
        if (state.get(v) === 1)
          cycles.push([...stack.slice(stack.indexOf(v)), v].map((x) => path.relative(ROOT, x)).join(' -> '));
        else if (!state.has(v)) visit(v);
      }
      stack.pop();
      state.set(u, 2);
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});

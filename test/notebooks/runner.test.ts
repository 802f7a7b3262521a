/**
 * The notebook runner (scripts/run_notebooks.py) on tiny generated notebooks: a failing cell makes it exit
 * non-zero naming the notebook, the cell and the error text. Needs Jupyter (Debian: jupyter-nbconvert,
 * python3-nbclient) and the tslab kernel; a few seconds per notebook.
 */
import * as fs from 'fs';
import * as path from 'path';
import { runNotebooks, tmpDir } from './helpers';

function writeNotebook(file: string, cells: string[]): void {
  const nb = {
    nbformat: 4,
    nbformat_minor: 4,
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    cells: cells.map((source) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source })),
  };
  fs.writeFileSync(file, JSON.stringify(nb, null, 1));
}

describe('scripts/run_notebooks.py', () => {
  const dir = tmpDir('bst-runner-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a failing cell: exit 1, stderr names the notebook, the cell number and the error text', () => {
    const nb = path.join(dir, '99_broken.ipynb');
    writeNotebook(nb, [
      'const a = 1 + 1;\nconsole.log("first cell ran", a);',
      '// second cell\nthrow new Error("deliberate failure 4711");',
      'console.log("never runs");',
    ]);
    const r = runNotebooks([nb], path.join(dir, 'out'));
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('99_broken.ipynb');
    expect(r.stderr).toMatch(/cell 2 \(code cell 2\) failed/);
    expect(r.stderr).toContain('deliberate failure 4711');
    // the executed copy is still written (for inspection), with the first cell's output
    const executed = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'notebooks', '99_broken.ipynb'), 'utf8'));
    expect(JSON.stringify(executed.cells[0].outputs)).toContain('first cell ran 2');
  });

  test('a type error fails the cell too', () => {
    const nb = path.join(dir, '98_type.ipynb');
    writeNotebook(nb, ['const n: number = "not a number";']);
    const r = runNotebooks([nb], path.join(dir, 'out'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/98_type\.ipynb: cell 1 \(code cell 1\) failed/);
    expect(r.stderr).toMatch(/not assignable to type 'number'/);
  });

  test('a passing notebook: exit 0 and an HTML export', () => {
    const nb = path.join(dir, '97_ok.ipynb');
    writeNotebook(nb, ['console.log("hello from tslab")']);
    const r = runNotebooks([nb], path.join(dir, 'out'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'out', 'html', '97_ok.html'), 'utf8')).toContain('hello from tslab');
  });
});

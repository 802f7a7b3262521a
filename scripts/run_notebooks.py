#!/usr/bin/python3
"""Execute bst-lab notebooks headless through the project's tslab kernel.

Usage: /usr/bin/python3 scripts/run_notebooks.py [NOTEBOOK ...] [--out build] [--timeout 3600] [--keep-going]

Without NOTEBOOK arguments it runs notebooks/[0-9][0-9]_*.ipynb in order. Each executed notebook is written to
<out>/notebooks/NAME.ipynb and exported to <out>/html/NAME.html. A failing cell stops the run (or, with
--keep-going, that notebook) and exits 1 naming the notebook, the cell and the kernel's error text.

tslab reports a failing cell only in its execute reply (status "error") plus stderr text; it writes no Jupyter
`error` output. This runner therefore checks every execute reply while the notebook runs.
"""
import argparse
import glob
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL_DIR = os.path.join(ROOT, ".jupyter", "share", "jupyter")


def die(msg, code=2):
    print(f"run_notebooks: {msg}", file=sys.stderr)
    sys.exit(code)


try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
except ImportError as e:  # pragma: no cover
    die(
        f"missing Python package ({e.name}). Install Jupyter's notebook runner: on Debian/Ubuntu "
        "`sudo apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient`, elsewhere "
        "`pip install jupyterlab nbclient nbconvert`, then run this again with that Python."
    )


def ensure_kernel():
    """Register the tslab kernel inside the project (.jupyter/), never in the user's global Jupyter."""
    spec = os.path.join(KERNEL_DIR, "kernels", "tslab", "kernel.json")
    tslab = os.path.join(ROOT, "node_modules", ".bin", "tslab")
    if not os.path.exists(tslab):
        die("node_modules/.bin/tslab is missing: run `npm ci` first")
    if not os.path.exists(spec):
        subprocess.run(
            [tslab, "install", f"--python={sys.executable}", f"--binary={tslab}", f"--prefix={os.path.join(ROOT, '.jupyter')}"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    paths = [KERNEL_DIR] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(paths)


def cell_text(cell):
    """The stderr/stdout text a cell printed (tslab's error report goes to stderr)."""
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") == "stderr":
            out.append(o.get("text", ""))
        elif o.get("output_type") == "error":
            out.append("\n".join(o.get("traceback", [])) or f"{o.get('ename')}: {o.get('evalue')}")
    return "".join(out).strip()


class NotebookFailure(Exception):
    pass


def run_one(path, out_dir, timeout):
    nb = nbformat.read(path, as_version=4)
    failures = []

    def on_executed(cell, cell_index, execute_reply):
        if execute_reply and execute_reply.get("content", {}).get("status") == "error":
            failures.append(cell_index)

    client = NotebookClient(
        nb,
        kernel_name="tslab",
        timeout=timeout,
        allow_errors=False,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        on_cell_executed=on_executed,
    )
    error = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
        error = e
    finally:
        write_outputs(nb, path, out_dir)
    if failures or error is not None:
        idx = failures[0] if failures else None
        if idx is None:
            raise NotebookFailure(f"{path}: {type(error).__name__}: {str(error).strip()[:2000]}")
        cell = nb.cells[idx]
        code_number = sum(1 for c in nb.cells[: idx + 1] if c.cell_type == "code")
        first = next((l for l in cell.source.splitlines() if l.strip()), "")
        text = cell_text(cell) or (str(error).strip() if error else "(the kernel printed no error text)")
        raise NotebookFailure(
            f"{path}: cell {idx + 1} (code cell {code_number}) failed: {first[:120]}\n"
            + "\n".join("    " + l for l in text.splitlines()[:60])
        )


def write_outputs(nb, path, out_dir):
    name = os.path.splitext(os.path.basename(path))[0]
    os.makedirs(os.path.join(out_dir, "notebooks"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "html"), exist_ok=True)
    nbformat.write(nb, os.path.join(out_dir, "notebooks", name + ".ipynb"))
    try:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(nb)
        with open(os.path.join(out_dir, "html", name + ".html"), "w", encoding="utf-8") as f:
            f.write(body)
    except ImportError:
        print("run_notebooks: nbconvert missing; no HTML export (apt-get install jupyter-nbconvert)", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--out", default=os.path.join(ROOT, "build"))
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("BST_CELL_TIMEOUT", "3600")), help="seconds per cell")
    ap.add_argument("--keep-going", action="store_true", help="run the remaining notebooks after a failure")
    args = ap.parse_args()
    paths = args.notebooks or sorted(glob.glob(os.path.join(ROOT, "notebooks", "[0-9][0-9]_*.ipynb")))
    if not paths:
        die("no notebooks found")
    for p in paths:
        if not os.path.exists(p):
            die(f"notebook not found: {p}")
    ensure_kernel()
    # headless: BST_PRESET and BST_<PARAM> override the parameters cells (lib/app/params.ts); in an interactive
    # session the cell's values win
    os.environ["BST_HEADLESS"] = "1"
    failed = []
    for p in paths:
        rel = os.path.relpath(p, os.getcwd())
        t0 = time.time()
        print(f"run_notebooks: {rel} ...", flush=True)
        try:
            run_one(p, args.out, args.timeout)
            print(f"run_notebooks: {rel} ok in {time.time() - t0:.1f} s", flush=True)
        except NotebookFailure as e:
            print(f"run_notebooks: FAILED {e}", file=sys.stderr, flush=True)
            failed.append(rel)
            if not args.keep_going:
                break
    if failed:
        print(f"run_notebooks: {len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)
    print(f"run_notebooks: {len(paths)} notebook(s) ok; executed copies in {os.path.relpath(args.out)}/notebooks, HTML in {os.path.relpath(args.out)}/html")


if __name__ == "__main__":
    main()

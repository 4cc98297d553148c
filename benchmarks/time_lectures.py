"""Run time of the lecture notebooks, top to bottom, cell by cell (a report, never a test).

Each notebook runs in a fresh kernel through nbclient, with the inline backend as `make lectures`
uses it. For every code cell the script records the wall time and the kernel's CPU time
(``time.process_time`` in the kernel, all threads), and prints per notebook the total over the
cells (kernel start-up excluded), the slowest cells, and the machine's load average before and
after. On a shared machine the wall time grows with the load; the CPU time is the better estimate
of the wall time on a quiet one. Nothing is written back to the notebooks.

Usage::

    .venv/bin/python benchmarks/time_lectures.py [lectures/01-*.ipynb ...]   # default: every lecture
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]


def time_notebook(path: Path) -> list[tuple[int, float, float]]:
    """``[(cell index, wall s, kernel CPU s), ...]`` for every code cell of ``path``, run in a fresh kernel."""
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=600,
                                     resources={"metadata": {"path": str(path.parent)}})
    probe = nbformat.v4.new_code_cell("import time as _time; print(_time.process_time())")
    rows = []
    with client.setup_kernel():
        def kernel_cpu() -> float:
            cell = nbformat.from_dict(probe)
            client.execute_cell(cell, 0, store_history=False)
            return float(cell.outputs[0].text)

        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cpu0, t0 = kernel_cpu(), time.perf_counter()
            client.execute_cell(cell, i)
            wall, cpu = time.perf_counter() - t0, kernel_cpu() - cpu0
            rows.append((i, wall, cpu))
    return rows


def main(argv: list[str]) -> None:
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    paths = [Path(p) for p in argv] or sorted((ROOT / "lectures").glob("[0-9][0-9]-*.ipynb"))
    for path in paths:
        load_before = os.getloadavg()[0]
        rows = time_notebook(path)
        load_after = os.getloadavg()[0]
        wall, cpu = sum(r[1] for r in rows), sum(r[2] for r in rows)
        slowest = sorted(rows, key=lambda r: -r[1])[:4]
        print(f"{path.name}: cells {wall:.2f} s wall, {cpu:.2f} s kernel CPU; slowest (wall/CPU): "
              + ", ".join(f"[{i}] {w:.2f}/{c:.2f} s" for i, w, c in slowest)
              + f"; load average {load_before:.1f} -> {load_after:.1f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

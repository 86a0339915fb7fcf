"""Run the benchmarks and write their JSON results to ``benchmarks/results/``.

Usage (from the repository root, in an environment with ``benchmarks/requirements.txt``)::

    python -m benchmarks.run_all                      # kmeans, dp, batch, ksg, nets
    python -m benchmarks.run_all --only dp ksg        # a selection
    python -m benchmarks.run_all --quick              # small sizes, to test the scripts
    python -m benchmarks.run_all --only book          # whole-book timing (long)

``--quick`` writes to ``infocompress-bench-quick/`` in the temporary directory, so that it
never overwrites the committed results.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from benchmarks import _common

BENCHMARKS = ("kmeans", "dp", "batch", "ksg", "nets")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=(*BENCHMARKS, "book"), default=BENCHMARKS,
                        help="benchmarks to run (default: all but book)")
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    args = parser.parse_args(argv)
    if args.quick:
        _common.RESULTS = Path(tempfile.gettempdir()) / "infocompress-bench-quick"
    for name in args.only:
        _common.log(f"=== {name} ===")
        if name == "kmeans":
            from benchmarks import bench_kmeans

            bench_kmeans.run(quick=args.quick)
        elif name == "dp":
            from benchmarks import bench_dp

            bench_dp.run(quick=args.quick)
        elif name == "batch":
            from benchmarks import bench_batch

            bench_batch.run(quick=args.quick)
        elif name == "ksg":
            from benchmarks import bench_ksg

            bench_ksg.run(quick=args.quick)
        elif name == "nets":
            from benchmarks import bench_nets

            bench_nets.run(quick=args.quick)
        elif name == "book":
            from benchmarks import book_timing

            book_timing.main([])
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python bench/sweep.py --help`: the same as `journeys bench sweep` (docs/performance.md)."""

import sys

from journeykit_rigs.commands.bench import bench_app

if __name__ == "__main__":
    bench_app(["sweep", *sys.argv[1:]])

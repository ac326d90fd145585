"""`python bench/engine.py --help`: the same as `journeys bench engine` (docs/performance.md)."""

import sys

from journeykit_rigs.commands.bench import bench_app

if __name__ == "__main__":
    bench_app(["engine", *sys.argv[1:]])

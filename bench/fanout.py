"""`python bench/fanout.py --help`: the same as `journeys bench fanout` (docs/performance.md)."""

import sys

from journeykit_rigs.commands.bench import bench_app

if __name__ == "__main__":
    bench_app(["fanout", *sys.argv[1:]])

"""`python bench/ingest.py --help`: the same as `journeys bench ingest` (docs/performance.md)."""

import sys

from journeykit_rigs.commands.bench import bench_app

if __name__ == "__main__":
    bench_app(["ingest", *sys.argv[1:]])

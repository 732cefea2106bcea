#!/usr/bin/python3
"""pandas baseline for the data-profile benchmark.

    /usr/bin/python3 bench/pandas_baseline.py bench/data/bench-1m.csv

Does what a pandas user does to profile a CSV: read_csv, describe(include='all'),
quantiles [.01, .05, .25, .5, .75, .95, .99] of the numeric columns, nunique. Prints one JSON
line: {"seconds", "peak_rss_mb", "rows", "columns", "stages": {...}, "pandas", "numpy", "python"}.
`seconds` covers the work above (imports excluded; run.js also times the whole process from
outside). `peak_rss_mb` is resource.getrusage(RUSAGE_SELF).ru_maxrss (KiB on Linux) / 1024.
"""

import json
import resource
import sys
import time

import numpy as np
import pandas as pd

QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]


def main(argv):
    if len(argv) != 2:
        print("usage: bench/pandas_baseline.py FILE.csv", file=sys.stderr)
        return 2
    path = argv[1]
    stages = {}
    t0 = time.perf_counter()
    df = pd.read_csv(path)
    t1 = time.perf_counter()
    described = df.describe(include="all")
    t2 = time.perf_counter()
    quantiles = df.select_dtypes(include="number").quantile(QUANTILES)
    t3 = time.perf_counter()
    distinct = df.nunique()
    t4 = time.perf_counter()
    stages = {
        "read_csv": round(t1 - t0, 3),
        "describe": round(t2 - t1, 3),
        "quantile": round(t3 - t2, 3),
        "nunique": round(t4 - t3, 3),
    }
    # Touch the results so nothing can be skipped.
    assert described.shape[1] == df.shape[1] and quantiles.shape[0] == len(QUANTILES) and len(distinct) == df.shape[1]
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": round(t4 - t0, 3),
                "peak_rss_mb": round(peak_kib / 1024, 1),
                "rows": int(df.shape[0]),
                "columns": int(df.shape[1]),
                "stages": stages,
                "pandas": pd.__version__,
                "numpy": np.__version__,
                "python": sys.version.split()[0],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

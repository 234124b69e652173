#!/usr/bin/env python3
"""Rebuilds crates/market-data/data/ from the upstream price files.

Usage: scripts/vendor-demo-data.py DIR   (DIR holds the upstream .csv.gz files, see the data README)

Keeps 2013-01-02 .. 2022-12-28 of the 20 S&P 500 stocks' adjusted closes (skfolio, BSD-3-Clause)
and of the S&P 500 index close (skfolio, BSD-3-Clause), unchanged but for the date window.
"""
import csv, gzip, sys, pathlib

src = pathlib.Path(sys.argv[1])
out = pathlib.Path(__file__).resolve().parent.parent / "crates/market-data/data"
START, END = "2013-01-01", "2022-12-31"

def slice_file(name, dest):
    with gzip.open(src / name, "rt", newline="") as f, open(out / dest, "w", newline="") as g:
        r, w = csv.reader(f), csv.writer(g, lineterminator="\n")
        header = next(r)
        w.writerow(header)
        for row in r:
            if START <= row[0][:10] <= END:
                w.writerow([row[0][:10]] + row[1:])

slice_file("sp500_20_stocks_daily_close.csv.gz", "sp500_20_stocks_daily_close.csv")
slice_file("sp500_index_daily_close.csv.gz", "sp500_index_daily_close.csv")

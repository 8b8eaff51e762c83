#!/usr/bin/python3
"""Plots memory_curve.sh's CSV: the call's scratch memory against M, beside what an N x M float32
similarity matrix alone would take. Needs Debian's python3-matplotlib.
    native/bench/memory_curve.sh build-bench > curve.csv
    native/bench/plot_memory_curve.py curve.csv docs/memory-vs-m.png"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

rows = list(csv.DictReader(open(sys.argv[1])))
m = [int(r["m"]) for r in rows]
extra = [float(r["extra_peak_mib"]) for r in rows]
n = 1024
full = [n * x * 4 / 2**20 for x in m]

fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
ax.plot(m, full, "o--", color="tab:red", label="an N×M float32 similarity matrix (N = 1024)")
ax.plot(m, extra, "o-", color="tab:blue", label="CircleLoss.Interop: peak memory beyond inputs and outputs")
ax.axhline(64, color="gray", linestyle=":", label="64 MiB target")
ax.set_xscale("log", base=2)
ax.set_yscale("log", base=2)
ax.set_xlabel("reference rows M")
ax.set_ylabel("MiB")
ax.set_title("Forward+backward against a reference memory\n(N = 1024, D = 128, float32)", fontsize=10)
ax.legend(loc="upper left", fontsize=8)
ax.grid(True, which="both", alpha=0.3)
fig.tight_layout()
fig.savefig(sys.argv[2])

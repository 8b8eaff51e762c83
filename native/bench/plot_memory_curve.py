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
n = 1024
m_all = sorted({int(r["m"]) for r in rows})
full = [n * x * 4 / 2**20 for x in m_all]

fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
ax.plot(m_all, full, "o--", color="tab:red", label="an N×M float32 similarity matrix (N = 1024)")
for limit, color in (("1024", "tab:blue"), ("64", "tab:green")):
    series = [r for r in rows if r["limit_mib"] == limit]
    ax.plot([int(r["m"]) for r in series], [float(r["extra_peak_mib"]) for r in series], "o-", color=color,
            label=f"CircleLoss.Interop, workspace limit {limit} MiB: peak memory beyond inputs and outputs")
ax.set_xscale("log", base=2)
ax.set_yscale("log", base=2)
ax.set_xlabel("reference rows M")
ax.set_ylabel("MiB")
ax.set_title("Forward+backward against a reference memory\n(N = 1024, D = 128, float32)", fontsize=10)
ax.legend(loc="upper left", fontsize=7)
ax.grid(True, which="both", alpha=0.3)
fig.tight_layout()
fig.savefig(sys.argv[2])

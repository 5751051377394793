#!/usr/bin/env python3
"""Runs bench_conv_transpose (all entries side by side, repeated) and prints
one table: per shape and thread count, useful GFLOP/s (median of the
repetitions) of convt, its dense lowering, the GEMM ceiling, oneDNN and
XNNPACK, convt's ratio to the better peer and to the ceiling, and the
geometric mean of the ratios over the 7 base shapes.

By default every library runs in its own process, one process per
(repetition, library), the libraries in a fresh random order each
repetition: so the repetitions of all libraries interleave in time, and no
library's idle threads (oneDNN's OpenMP workers spin-wait after each call)
take cores from another. --one-process runs everything in one process with
Google Benchmark's random interleaving instead.

  scripts/bench_table.py [--bench build/bench/bench_conv_transpose]
                         [--repetitions 5] [--filter REGEX] [--json out.json]
                         [--one-process]
"""
import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys

BASE = ["dcgan_2d", "unet_2d", "fcn32_2d", "unet_3d", "hifigan_1d", "s1_2d", "dil_2d"]
KINDS = ["convt", "dense", "gemm", "onednn", "xnnpack"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=os.path.join("build", "bench", "bench_conv_transpose"))
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--filter", default=".")
    ap.add_argument("--json", help="keep the raw benchmark JSON here")
    ap.add_argument("--one-process", action="store_true",
                    help="all libraries in one process (Google Benchmark's random interleaving)")
    args = ap.parse_args()
    def run(filt, reps, interleave):
        cmd = [args.bench, f"--benchmark_filter={filt}", f"--benchmark_repetitions={reps}",
               "--benchmark_report_aggregates_only=false", "--benchmark_format=json"]
        if interleave:
            cmd.append("--benchmark_enable_random_interleaving=true")
        return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)

    if args.one_process:
        data = run(args.filter, args.repetitions, True)
        benchmarks = data["benchmarks"]
    else:
        rng = random.Random(2026)
        benchmarks, data = [], None
        for _ in range(args.repetitions):
            kinds = KINDS[:]
            rng.shuffle(kinds)
            for kind in kinds:
                d = run(f"^{kind}/.*({args.filter})", 1, False)
                data = data or d
                benchmarks += d["benchmarks"]
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"context": data["context"], "benchmarks": benchmarks}, f)
    runs = {}
    for b in benchmarks:
        if b.get("run_type") != "iteration":
            continue
        kind, shape, threads = b["run_name"].split("/")[:3]
        runs.setdefault((shape, threads.split(":")[1]), {}).setdefault(kind, []).append(b["GFLOPs"])
    ctx = data["context"]
    print(f"machine: {ctx.get('num_cpus')} CPUs @ {ctx.get('mhz_per_cpu')} MHz; "
          f"median of {args.repetitions} repetitions; useful GFLOP/s (gemm: its own FLOPs); "
          f"{'one process' if args.one_process else 'one process per library and repetition'}\n")
    print("| shape | threads | convt | dense | gemm ceiling | oneDNN | XNNPACK | convt / best peer | convt / ceiling |")
    print("|---|---|---|---|---|---|---|---|---|")
    ratios = {}
    for (shape, threads), kinds in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        med = {k: statistics.median(v) for k, v in kinds.items()}
        peers = [med[k] for k in ("onednn", "xnnpack") if k in med]
        ratio = med["convt"] / max(peers) if peers and "convt" in med else None
        ceil = med["convt"] / med["gemm"] if "gemm" in med and "convt" in med else None
        if ratio is not None and shape in BASE:
            ratios.setdefault(threads, []).append(ratio)
        cell = lambda k: (f"{med[k]:.0f}" if med[k] >= 10 else f"{med[k]:.2g}") if k in med else "–"
        print(f"| {shape} | {threads} | " + " | ".join(cell(k) for k in KINDS) +
              f" | {ratio:.2f}x |" if ratio is not None else f"| {shape} | {threads} | " +
              " | ".join(cell(k) for k in KINDS) + " | – |", end="")
        print(f" {ceil:.0%} |" if ceil is not None else " – |")
    for threads, rs in sorted(ratios.items()):
        gm = math.exp(sum(math.log(r) for r in rs) / len(rs))
        print(f"\ngeometric mean of convt / best peer over {len(rs)} base shapes, threads={threads}: "
              f"{gm:.2f}x (min {min(rs):.2f}x)")


if __name__ == "__main__":
    sys.exit(main())

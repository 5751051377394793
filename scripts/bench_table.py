#!/usr/bin/env python3
"""Runs bench_conv_transpose (all entries side by side, repeated) and prints
one table: per shape and thread count, useful GFLOP/s (median of the
repetitions) of convt, convt with a fused bias + ReLU, its dense lowering,
the GEMM ceiling, oneDNN and XNNPACK, convt's ratio to the better peer and
to the ceiling, the geometric mean of the ratios over the 7 base shapes,
and what the fused bias + ReLU costs. --creation prints creation costs
instead (one thread, base shapes): make_plan from the unpacked kernel, a
plan from a packed kernel, oneDNN's primitive creation with its weight
reorder (primitive cache disabled), and one run, in milliseconds.
--models prints the whole-model table instead (bench/models.hpp): per
model and thread count, milliseconds for all of its transposed
convolutions (convt, convt with bias + ReLU fused, oneDNN, XNNPACK), convt
over the best peer, the geometric mean over the models; each layer's time
inside its model (the model entries' per-layer counters), worst first,
beside its ratio alone; then every layer's ratio (the same run's per-layer
entries), worst first, and each model's
speed in bf16 (also with bias + ReLU fused) and int8 -> int32 against its
f32 speed (with bias + ReLU: against f32 with bias + ReLU); with --creation,
each model's creation cost against oneDNN's; and each model at all threads
with the caller idle for 100 us before every layer (the helpers gone
quiet), against oneDNN in the same setting.

By default every library runs in its own process, one process per
(repetition, shape or model, library), the libraries of a shape back to
back in a fresh random order: so the repetitions of all libraries
interleave in time, no library's idle threads (oneDNN's OpenMP workers
spin-wait after each call) take cores from another, and every ratio is the
median of per-repetition ratios of times taken seconds apart (a shared
machine's speed drifts by a third over minutes; pairing cancels the drift).
--one-process runs everything in one process with Google Benchmark's random
interleaving instead (ratios of medians).

  scripts/bench_table.py [--bench build/bench/bench_conv_transpose]
                         [--repetitions 5] [--filter REGEX] [--json out.json]
                         [--one-process] [--creation] [--models] [--kinds a,b]
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
KINDS = ["convt", "convt_bias_relu", "dense", "gemm", "onednn", "xnnpack"]
# --creation: making a plan from the unpacked kernel, a plan from a packed
# kernel, oneDNN's primitive creation (with its weight reorder), one run.
CREATION_KINDS = ["create_convt", "plan_convt", "create_onednn", "convt"]
MODEL_KINDS = ["model_convt", "model_convt_bias_relu", "model_onednn", "model_xnnpack", "convt", "onednn", "xnnpack",
               "model_convt_bf16", "model_convt_bf16_bias_relu", "model_convt_i8i32",
               "model_convt_after_idle", "model_onednn_after_idle"]
# convt on the same layers in reduced precision: bf16 in and out (also with bias and ReLU), int8 in with
# int32 out; each against the f32 entry that does the same work.
MODEL_TYPED_KINDS = [("model_convt_bf16", "bf16", "model_convt"),
                     ("model_convt_bf16_bias_relu", "bf16 + bias + ReLU", "model_convt_bias_relu"),
                     ("model_convt_i8i32", "int8 -> int32", "model_convt")]
MODEL_CREATION_KINDS = ["create_model_convt", "create_model_onednn", "model_convt"]
# How the libraries were run, for the tables' header (--one-process or not).
PROCESSES = {False: "one process per library, shape and repetition", True: "one process"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=os.path.join("build", "bench", "bench_conv_transpose"))
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--filter", default=".")
    ap.add_argument("--json", help="keep the raw benchmark JSON here")
    ap.add_argument("--creation", action="store_true",
                    help="creation costs (one thread, base shapes) instead of throughput")
    ap.add_argument("--models", action="store_true", help="whole models (bench/models.hpp) and their layers")
    ap.add_argument("--one-process", action="store_true",
                    help="all libraries in one process (Google Benchmark's random interleaving)")
    ap.add_argument("--kinds", help="run only these entries, comma-separated (e.g. convt,convt_bias_relu: "
                    "the fused epilogue's cost in more repetitions)")
    args = ap.parse_args()
    if args.models:
        kinds_run = MODEL_CREATION_KINDS if args.creation else MODEL_KINDS
        # Model entries are named by model, their layers "model.N_layer"
        # (the suite's shapes have no '.'): the filter picks models.
        args.filter = f"[^/.]*({args.filter})[^/.]*"  # within the model's name (POSIX regex: no lookahead)
    else:
        kinds_run = CREATION_KINDS if args.creation else KINDS
    if args.kinds:
        wanted = args.kinds.split(",")
        unknown = [k for k in wanted if k not in kinds_run]
        if unknown:
            sys.exit(f"--kinds: {', '.join(unknown)} not among {', '.join(kinds_run)}")
        kinds_run = [k for k in kinds_run if k in wanted]
    if args.creation and not args.models:
        args.filter = f"({args.filter}).*/threads:1/"
    def run(filt, reps, interleave):
        cmd = [args.bench, f"--benchmark_filter={filt}", f"--benchmark_repetitions={reps}",
               "--benchmark_report_aggregates_only=false", "--benchmark_format=json"]
        if interleave:
            cmd.append("--benchmark_enable_random_interleaving=true")
        return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)

    def pattern(kinds, unit=None):  # the entries of `kinds` the filter picks (only shape or model `unit`)
        threads = "threads:1/" if args.creation else ""
        if not args.models:
            return f"^({'|'.join(kinds)})/" + (f"{unit}/{threads}" if unit else f".*({args.filter})")
        layer_kinds = [k for k in kinds if not k.startswith(("model_", "create_model_"))]
        model_kinds = [k for k in kinds if k not in layer_kinds]
        name, rest = (unit, "") if unit else (args.filter, "[^/.]*")
        alternatives = []
        if layer_kinds:
            alternatives.append(f"({'|'.join(layer_kinds)})/{name}{rest}\\.[^/]*/{threads}")
        if model_kinds:
            alternatives.append(f"({'|'.join(model_kinds)})/{name}{rest}/{threads}")
        return "^(" + "|".join(alternatives) + ")"

    def units(filt):  # {shape (or model): the kinds that time it} of the entries the filter picks, in order
        listed = subprocess.run([args.bench, f"--benchmark_filter={filt}", "--benchmark_list_tests"], check=True,
                                capture_output=True, text=True).stdout.split()
        found = {}
        for name in listed:
            kind, shape = name.split("/")[:2]
            if not args.models and "." in shape:
                continue  # a model's layer ("model.N_layer"): the --models table times those
            found.setdefault(shape.split(".")[0], set()).add(kind)
        return found

    if args.one_process:
        data = run(pattern(kinds_run), args.repetitions, True)
        benchmarks = [b for b in data["benchmarks"] if args.models or "." not in b["name"].split("/")[1]]
    else:
        # Each shape (or model, with its layers) is timed by every library
        # back to back, in a fresh random order: a shared machine's speed
        # drifts over minutes, and the ratios pair measurements seconds apart.
        rng = random.Random(2026)
        benchmarks, data = [], None
        found = units(pattern(kinds_run))
        for _ in range(args.repetitions):
            for unit, present in found.items():
                kinds = [k for k in kinds_run if k in present]
                rng.shuffle(kinds)
                for kind in kinds:
                    d = run(pattern([kind], unit), 1, False)
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
        value = b["real_time"] if args.creation or args.models else b["GFLOPs"]  # ms or GFLOP/s
        runs.setdefault((shape, threads.split(":")[1]), {}).setdefault(kind, []).append(value)
        if kind.startswith("model_"):  # each layer's milliseconds inside the model: "<model>#<layer number>"
            for counter, ms in b.items():
                if counter.startswith("layer") and counter.endswith("_ms"):
                    key = (f"{shape}#{counter[len('layer'):-len('_ms')]}", threads.split(":")[1])
                    runs.setdefault(key, {}).setdefault(kind, []).append(ms)
    ctx = data["context"]
    if args.models:
        return model_table(runs, ctx, args)
    if args.creation:
        return creation_table(runs, ctx, args)
    print(f"machine: {machine(ctx)}; "
          f"median of {args.repetitions} repetitions; useful GFLOP/s (gemm: its own FLOPs); "
          f"{PROCESSES[args.one_process]}\n")
    print("| shape | threads | convt | convt + bias + ReLU | dense | gemm ceiling | oneDNN | XNNPACK | convt / best peer "
          "| convt / ceiling |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    ratios = {}
    for (shape, threads), kinds in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        med = {k: statistics.median(v) for k, v in kinds.items()}
        peers = [k for k in ("onednn", "xnnpack") if k in med]
        ratio = paired(kinds, lambda r: r["convt"] / max(r[k] for k in peers)) if peers and "convt" in med else None
        ceil = paired(kinds, lambda r: r["convt"] / r["gemm"]) if "gemm" in med and "convt" in med else None
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
    for threads in sorted({t for _, t in runs}):
        cost = [paired(k, lambda r: r["convt"] / r["convt_bias_relu"]) - 1
                for (shape, t), k in runs.items() if t == threads and "convt" in k and "convt_bias_relu" in k]
        if cost:
            print(f"fused bias + ReLU, threads={threads}: {100 * statistics.median(cost):+.1f}% time (median over "
                  f"{len(cost)} shapes; worst {100 * max(cost):+.1f}%)")


def creation_table(runs, ctx, args):
    """Median milliseconds of each creation kind, one thread."""
    print(f"machine: {machine(ctx)}; median of {args.repetitions} "
          f"repetitions; milliseconds, one thread; oneDNN's primitive cache disabled\n")
    print("| shape | make_plan | plan from packed kernel | oneDNN primitive + weight reorder | one convt run "
          "| make_plan / oneDNN | plan from kernel / run |")
    print("|---|---|---|---|---|---|---|")
    for (shape, _), kinds in sorted(runs.items()):
        if "create_convt" not in kinds:
            continue
        med = {k: statistics.median(v) for k, v in kinds.items()}
        cell = lambda k: f"{med[k]:.3g}" if k in med else "–"  # noqa: E731
        ratio = lambda a, b: (f"{paired(kinds, lambda r: r[a] / r[b]):.2g}x"  # noqa: E731
                              if a in med and b in med else "–")
        print(f"| {shape} | {cell('create_convt')} | {cell('plan_convt')} | {cell('create_onednn')} | "
              f"{cell('convt')} | {ratio('create_convt', 'create_onednn')} | {ratio('plan_convt', 'convt')} |")
    return 0


def machine(ctx):
    """The CPU as lscpu names it (model name, family and model, the vector extensions that matter), its
    count and clock."""
    info = {}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    except OSError:
        pass
    info = {k.strip(): v.strip() for k, v in info.items()}
    flags = [f for f in ("avx2", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile", "asimd", "sve")
             if f in info.get("Flags", "").split()]
    name = info.get("Model name", "unknown CPU")
    if "CPU family" in info:
        name += f" (family {info['CPU family']} model {info.get('Model', '?')})"
    return (f"{name}, {' '.join(flags) or 'no AVX2/AVX-512/NEON flag'}; "
            f"{ctx.get('num_cpus')} CPUs @ {ctx.get('mhz_per_cpu')} MHz")


def paired(lists, f):
    """f of one repetition's values ({kind: value}), median over the repetitions: each repetition's
    values of a shape (model) were measured back to back, so a ratio pairs them. With one process or
    differing counts, f of the medians."""
    counts = {len(v) for v in lists.values()}
    if len(counts) == 1:
        return statistics.median(f({k: v[i] for k, v in lists.items()}) for i in range(counts.pop()))
    return f({k: statistics.median(v) for k, v in lists.items()})


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def model_table(runs, ctx, args):
    """Whole models (milliseconds, median), then their layers by ratio."""
    print(f"machine: {machine(ctx)}; median of {args.repetitions} "
          f"repetitions; milliseconds; {PROCESSES[args.one_process]}\n")
    med = {key: {k: statistics.median(v) for k, v in kinds.items()} for key, kinds in runs.items()}
    if args.creation:
        print("| model | convt make_plan (all layers) | oneDNN primitives + weight reorders | convt / oneDNN "
              "| one convt run |")
        print("|---|---|---|---|---|")
        for (name, threads), m in sorted(med.items()):
            if "create_model_convt" not in m:
                continue
            c, d = m["create_model_convt"], m.get("create_model_onednn")
            cd = paired(runs[(name, threads)], lambda r: r["create_model_convt"] / r["create_model_onednn"]) if d else 0
            print(f"| {name} | {c:.3g} | {d:.3g} | {cd:.2g}x | {m.get('model_convt', float('nan')):.3g} |"
                  if d else f"| {name} | {c:.3g} | – | – | {m.get('model_convt', float('nan')):.3g} |")
        return 0
    print("| model | threads | convt | convt + bias + ReLU | oneDNN | XNNPACK | convt speed / best peer |")
    print("|---|---|---|---|---|---|---|")
    ratios, layer_rows = {}, []
    for (name, threads), m in sorted(med.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if "#" in name:
            continue  # a layer inside its model: in_model_table
        lists = runs[(name, threads)]
        peers = [k for k in ("model_onednn", "model_xnnpack") if k in m]
        if "model_convt" in m:
            cell = lambda k: f"{m[k]:.3g}" if k in m else "–"  # noqa: E731
            ratio = paired(lists, lambda r: min(r[k] for k in peers) / r["model_convt"]) if peers else None
            if ratio:
                ratios.setdefault(threads, []).append(ratio)
            print(f"| {name} | {threads} | {cell('model_convt')} | {cell('model_convt_bias_relu')} | "
                  f"{cell('model_onednn')} | {cell('model_xnnpack')} | " + (f"{ratio:.2f}x |" if ratio else "– |"))
        elif "." in name and "convt" in m:
            lpeers = [k for k in ("onednn", "xnnpack") if k in m]
            if lpeers:
                layer_rows.append((paired(lists, lambda r: min(r[k] for k in lpeers) / r["convt"]), name, threads, m))
    for threads, rs in sorted(ratios.items()):
        print(f"\ngeometric mean of convt speed / best peer over {len(rs)} models, threads={threads}: "
              f"{geomean(rs):.2f}x (min {min(rs):.2f}x)")
    typed_table(runs, med)
    after_idle_table(runs, med)
    in_model_table(runs, med, {(name, threads): ratio for ratio, name, threads, _ in layer_rows})
    if layer_rows:
        print("\n| layer | threads | convt ms | oneDNN ms | XNNPACK ms | convt speed / best peer |")
        print("|---|---|---|---|---|---|")
        for ratio, name, threads, m in sorted(layer_rows):
            cell = lambda k: f"{m[k]:.3g}" if k in m else "–"  # noqa: E731
            print(f"| {name} | {threads} | {cell('convt')} | {cell('onednn')} | {cell('xnnpack')} | {ratio:.2f}x |")
    return 0


def after_idle_table(runs, med):
    """Each model's layers timed after the caller spun alone before each (the "_after_idle" entries,
    all threads): the thread hand-off when a library's helpers have gone quiet."""
    rows = [(key, m) for key, m in sorted(med.items()) if "#" not in key[0] and "model_convt_after_idle" in m]
    if not rows:
        return
    print("\n| model | threads | convt ms after idle | oneDNN ms after idle | convt speed / oneDNN | "
          "convt after idle / convt |")
    print("|---|---|---|---|---|---|")
    ratios = []
    for (name, threads), m in rows:
        lists = runs[(name, threads)]
        vs = (paired(lists, lambda r: r["model_onednn_after_idle"] / r["model_convt_after_idle"])
              if "model_onednn_after_idle" in m else None)
        own = paired(lists, lambda r: r["model_convt_after_idle"] / r["model_convt"]) if "model_convt" in m else None
        if vs:
            ratios.append(vs)
        print(f"| {name} | {threads} | {m['model_convt_after_idle']:.3g} | "
              f"{m.get('model_onednn_after_idle', float('nan')):.3g} | " + (f"{vs:.2f}x | " if vs else "– | ") +
              (f"{own:.2f}x |" if own else "– |"))
    if ratios:
        print(f"\nafter idle: geometric mean of convt speed / oneDNN over {len(ratios)} models "
              f"{geomean(ratios):.2f}x (min {min(ratios):.2f}x)")


def in_model_table(runs, med, alone):
    """Each layer timed inside its model's entry (the layers before it have filled the caches with their
    own data), worst first, beside its ratio alone."""
    names = {}  # "<model>#<n>" -> the layer's own name, "<model>.<n>_..."
    for name, _ in runs:
        if "." in name and "#" not in name:
            model, rest = name.split(".", 1)
            names[f"{model}#{rest.split('_', 1)[0]}"] = name
    rows = []
    for (key, threads), m in med.items():
        peers = [k for k in ("model_onednn", "model_xnnpack") if k in m]
        if "#" not in key or "model_convt" not in m or not peers:
            continue
        ratio = paired(runs[(key, threads)], lambda r: min(r[k] for k in peers) / r["model_convt"])
        rows.append((ratio, names.get(key, key), threads, m))
    if not rows:
        return
    print("\n| layer inside its model | threads | convt ms | oneDNN ms | XNNPACK ms | convt speed / best peer "
          "| alone |")
    print("|---|---|---|---|---|---|---|")
    for ratio, name, threads, m in sorted(rows):
        cell = lambda k: f"{m[k]:.3g}" if k in m else "–"  # noqa: E731
        own = alone.get((name, threads))
        print(f"| {name} | {threads} | {cell('model_convt')} | {cell('model_onednn')} | {cell('model_xnnpack')} | "
              f"{ratio:.2f}x | " + (f"{own:.2f}x |" if own else "– |"))
    for threads in sorted({t for _, _, t, _ in rows}):
        rs = [r for r, _, t, _ in rows if t == threads]
        print(f"\nlayers inside their models, threads={threads}: geometric mean {geomean(rs):.2f}x "
              f"(min {min(rs):.2f}x) over {len(rs)} layers")


def typed_table(runs, med):
    """Each model in bf16 and int8 -> int32 against its f32 time (convt only; bf16 with bias and ReLU
    against f32 with bias and ReLU)."""
    rows = [(key, m) for key, m in sorted(med.items(), key=lambda kv: (kv[0][1], kv[0][0]))
            if "#" not in key[0] and any(k in m and f32 in m for k, _, f32 in MODEL_TYPED_KINDS)]
    if not rows:
        return
    names = [label for _, label, _ in MODEL_TYPED_KINDS]
    print("\n| model | threads | convt f32 ms | " + " | ".join(f"{n} ms" for n in names) + " | " +
          " | ".join(f"{n} speed / f32" for n in names) + " |")
    print("|---|---|---|" + "---|" * (2 * len(names)))
    ratios = {}
    for (name, threads), m in rows:
        cells, speeds = [], []
        for kind, label, f32 in MODEL_TYPED_KINDS:
            if kind in m and f32 in m:
                cells.append(f"{m[kind]:.3g}")
                speed = paired(runs[(name, threads)], lambda r: r[f32] / r[kind])
                speeds.append(f"{speed:.2f}x")
                ratios.setdefault((label, threads), []).append(speed)
            else:
                cells.append("–")
                speeds.append("–")
        f32_cell = f"{m['model_convt']:.3g}" if "model_convt" in m else "–"
        print(f"| {name} | {threads} | {f32_cell} | " + " | ".join(cells) + " | " + " | ".join(speeds) + " |")
    for (label, threads), rs in sorted(ratios.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        print(f"\n{label} speed / f32 over {len(rs)} models, threads={threads}: geometric mean {geomean(rs):.2f}x "
              f"(min {min(rs):.2f}x)")


if __name__ == "__main__":
    sys.exit(main())

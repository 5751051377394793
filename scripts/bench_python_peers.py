#!/usr/bin/env python3
"""Times what JAX, ONNX Runtime and TensorFlow users run on the whole-model
layers of bench/models.hpp, next to convt, and checks that every peer
computes convt's values.

  scripts/bench_python_peers.py --bench build/bench/bench_conv_transpose \\
      --convt-npy build/examples/convt-npy \\
      --python jax=/venv-jax/bin/python,onnxruntime=/venv-ort/bin/python,tensorflow=/venv-tf/bin/python \\
      [--threads 1,2] [--repetitions 3] [--filter REGEX] [--check-only]

The peers are pip packages, each possibly in its own virtual environment
(`--python peer=interpreter`); none is needed to build or test convt, and a
peer that fails to import is reported and left out. What each peer runs:
  jax          jax.jit(jax.lax.conv_transpose) on NHWC/HWIO, the layer's pads
  onnxruntime  an ONNX ConvTranspose (NCHW, its own layout) in an
               InferenceSession, pads and output_padding from the layer
  tensorflow   tf.function(tf.nn.conv2d_transpose) (1-D layers as height-1
               images), or conv3d_transpose for unpadded 3-D layers
Every timed process is pinned to the first T cores and its library told to
use T threads; the processes of all libraries interleave in a fresh random
order each repetition, as scripts/bench_table.py does. convt's numbers come
from the C++ benchmark's `model_convt` and `convt` entries in the same run.
The check (always run first) writes each layer's input, kernel and every
peer's output as .npy, runs convt-npy on the same files and compares.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

PEERS = ["jax", "onnxruntime", "tensorflow"]


# ---------------------------------------------------------------- worker side
def layer_data(layer):
    import numpy as np
    rng = np.random.default_rng(zlib.crc32(layer["name"].encode()))
    x = rng.standard_normal([layer["n"], *layer["in"], layer["c"]], dtype=np.float32)
    w = rng.standard_normal([*layer["k"], layer["c"], layer["o"]], dtype=np.float32)
    return x, w / np.float32(np.sqrt(layer["c"] * np.prod(layer["k"])))


def make_jax(layer, x, w, threads):
    import jax
    pads = [tuple(p) for p in layer["pads"]]
    sp = "DHW"[3 - len(layer["in"]):]
    dn = ("N" + sp + "C", sp + "IO", "N" + sp + "C")
    f = jax.jit(lambda a, b: jax.lax.conv_transpose(a, b, layer["s"], pads, dimension_numbers=dn))
    xd, wd = jax.device_put(x), jax.device_put(w)
    return lambda: f(xd, wd).block_until_ready(), lambda y: y


def make_onnxruntime(layer, x, w, threads):
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    nsp = len(layer["in"])
    k, s = layer["k"], layer["s"]
    # JAX pads (on the dilated input) -> ONNX's (PyTorch's) p = k - 1 - pad;
    # a high pad beyond k - 1 is output_padding.
    lo = [k[d] - 1 - layer["pads"][d][0] for d in range(nsp)]
    hi = [k[d] - 1 - layer["pads"][d][1] for d in range(nsp)]
    if min(lo) < 0:
        return None
    out_pad = [max(0, -h) for h in hi]
    hi = [max(0, h) for h in hi]
    # ConvTranspose's weight is [C, O, k...] and is applied flipped.
    wt = np.ascontiguousarray(np.flip(w, axis=tuple(range(nsp))).transpose(nsp, nsp + 1, *range(nsp)))
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], kernel_shape=k, strides=s, pads=lo + hi,
                            output_padding=out_pad)
    graph = helper.make_graph([node], "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(wt, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    xc = np.ascontiguousarray(np.moveaxis(x, -1, 1))  # NCHW, ORT's layout (not timed)
    return lambda: sess.run(None, {"x": xc})[0], lambda y: np.moveaxis(y, 1, -1)


def make_tensorflow(layer, x, w, threads):
    import numpy as np
    import tensorflow as tf
    nsp = len(layer["in"])
    k, s, n, o = layer["k"], layer["s"], layer["n"], layer["o"]
    lo = [k[d] - 1 - layer["pads"][d][0] for d in range(nsp)]
    hi = [k[d] - 1 - layer["pads"][d][1] for d in range(nsp)]
    out = [(layer["in"][d] - 1) * s[d] + k[d] - lo[d] - hi[d] for d in range(nsp)]
    # conv*_transpose's filter is [k..., O, C], applied flipped.
    f = np.flip(w, axis=tuple(range(nsp))).swapaxes(nsp, nsp + 1)
    if min(lo + hi) < 0 or (nsp == 3 and max(lo + hi) > 0):
        return None
    if nsp == 3:
        fn = tf.function(lambda a, b: tf.nn.conv3d_transpose(a, b, [n, *out, o], [1, *s, 1], "VALID"))
        xs, fs, unshape = x, f, (lambda y: y)
    else:  # 1-D layers as images of height 1, as tf.nn.conv1d_transpose does
        one = [1] if nsp == 1 else []
        xs = x[:, None] if one else x
        fs = f[None] if one else f
        pads = [[0, 0]] + [[0, 0]] * len(one) + [[a, b] for a, b in zip(lo, hi)] + [[0, 0]]
        fn = tf.function(lambda a, b: tf.nn.conv2d_transpose(a, b, [n, *one, *out, o], [1, *one, *s, 1], pads))
        unshape = (lambda y: y[:, 0]) if one else (lambda y: y)
    xt, ft = tf.constant(xs), tf.constant(np.ascontiguousarray(fs))
    return lambda: fn(xt, ft).numpy(), unshape


def worker(args):
    os.sched_setaffinity(0, set(range(args.threads)))
    if args.worker == "jax" and args.threads == 1:
        os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    if args.worker == "tensorflow":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    make = {"jax": make_jax, "onnxruntime": make_onnxruntime, "tensorflow": make_tensorflow}[args.worker]
    import numpy as np
    models = json.load(open(args.layers))
    result = {"layers": {}, "models": {}}
    for m in models:
        runs = []
        for layer in m["layers"]:
            x, w = layer_data(layer)
            made = make(layer, x, w, args.threads)
            if made is None:  # a padding this peer's op cannot express
                runs = None
                continue
            call, unshape = made
            y = unshape(np.asarray(call()))
            if args.save_dir:
                for name, v in (("x", x), ("w", w), (args.worker, y)):
                    np.save(os.path.join(args.save_dir, f"{layer['name']}.{name}.npy"), np.ascontiguousarray(v))
            if args.save_dir:  # checking values only
                continue
            result["layers"][layer["name"]] = timed(call, args.min_time)
            if runs is not None:
                runs.append(call)
        if runs and not args.save_dir:
            result["models"][m["name"]] = timed(lambda: [r() for r in runs], args.min_time)
    print(json.dumps(result))


def timed(call, min_time):
    """Median milliseconds per call, over at least min_time seconds (one call
    after the warm-up when a call takes longer)."""
    call()
    times, start = [], time.perf_counter()
    while not times or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


# ------------------------------------------------------------------ main side
def run_worker(python, peer, threads, layers_file, min_time, save_dir=None):
    cmd = [python, os.path.abspath(__file__), "--worker", peer, "--threads", str(threads), "--layers", layers_file,
           "--min-time", str(min_time)] + (["--save-dir", save_dir] if save_dir else [])
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"{peer}: failed ({p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode})",
              file=sys.stderr)
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def convt_reference(convt_npy, save_dir, layer):
    stem = os.path.join(save_dir, layer["name"])
    sp = "DHW"[3 - len(layer["in"]):]
    dn = f"N{sp}C,{sp}IO,N{sp}C"
    pads = ",".join(f"{a}:{b}" for a, b in layer["pads"])
    subprocess.run([convt_npy, f"{stem}.x.npy", f"{stem}.w.npy", "-o", f"{stem}.convt.npy", "--strides",
                    ",".join(map(str, layer["s"])), "--padding", pads, "--dimension-numbers", dn], check=True)
    return f"{stem}.convt.npy"


def check(args, pythons, models, layers_file):
    """Every peer's output against convt-npy's on the same files."""
    import numpy as np
    ok = {}
    with tempfile.TemporaryDirectory() as tmp:
        for peer, python in pythons.items():
            if run_worker(python, peer, 1, layers_file, 0.0, tmp) is None:
                continue
            ok[peer] = True
            for m in models:
                for layer in m["layers"]:
                    path = os.path.join(tmp, f"{layer['name']}.{peer}.npy")
                    if not os.path.exists(path):
                        print(f"check {peer:12s} {layer['name']}: not run (padding not expressible)")
                        continue
                    ref_path = os.path.join(tmp, f"{layer['name']}.convt.npy")
                    if not os.path.exists(ref_path):
                        convt_reference(args.convt_npy, tmp, layer)
                    want, got = np.load(ref_path), np.load(path)
                    err = float(np.max(np.abs(got - want)) / max(1e-30, float(np.max(np.abs(want)))))
                    good = got.shape == want.shape and err < 1e-4
                    ok[peer] = ok[peer] and good
                    print(f"check {peer:12s} {layer['name']}: shape {got.shape} max rel. error {err:.2e} "
                          f"{'ok' if good else 'MISMATCH'}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default=os.path.join("build", "bench", "bench_conv_transpose"))
    ap.add_argument("--convt-npy", default=os.path.join("build", "examples", "convt-npy"))
    ap.add_argument("--python", default="", help="peer=interpreter,... (default: this interpreter for all)")
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("--filter", default=".", help="regex on model names")
    ap.add_argument("--check-only", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--layers", help=argparse.SUPPRESS)
    ap.add_argument("--save-dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        args.threads = int(args.threads)
        return worker(args)
    import re
    given = dict(kv.split("=", 1) for kv in args.python.split(",") if kv)
    pythons = {p: given.get(p, sys.executable) for p in args.peers.split(",")}
    models = [m for m in json.loads(subprocess.run([args.bench, "--list-models"], capture_output=True, text=True,
                                                   check=True).stdout) if re.search(args.filter, m["name"])]
    layers_file = os.path.join(tempfile.mkdtemp(), "models.json")
    json.dump(models, open(layers_file, "w"))
    ok = check(args, pythons, models, layers_file)
    peers = [p for p in pythons if ok.get(p)]
    if args.check_only or not peers:
        return 0 if ok and all(ok.values()) else 1
    threads = [int(t) for t in args.threads.split(",")]
    names = "|".join(re.escape(m["name"]) for m in models)
    samples = {}  # (library, threads, entry) -> [ms]
    for rep in range(args.repetitions):
        jobs = [("convt", t) for t in threads] + [(p, t) for p in peers for t in threads]
        random.shuffle(jobs)
        for lib, t in jobs:
            if lib == "convt":
                out = subprocess.run([args.bench, f"--benchmark_filter=^(model_convt|convt)/({names})(\\.[^/]*)?/threads:{t}/",
                                      "--benchmark_format=json"], capture_output=True, text=True, check=True).stdout
                for b in json.loads(out)["benchmarks"]:
                    entry = b["name"].split("/")[1]
                    scale = {"ms": 1, "us": 1e-3, "ns": 1e-6, "s": 1e3}[b["time_unit"]]
                    samples.setdefault(("convt", t, entry), []).append(b["real_time"] * scale)
            else:
                res = run_worker(pythons[lib], lib, t, layers_file, args.min_time)
                for entry, ms in (res or {}).get("layers", {}).items():
                    samples.setdefault((lib, t, entry), []).append(ms)
                for entry, ms in (res or {}).get("models", {}).items():
                    samples.setdefault((lib, t, entry), []).append(ms)
    med = {k: statistics.median(v) for k, v in samples.items()}
    libs = ["convt"] + peers
    print(f"\n| model | threads | {' | '.join(libs)} | convt speed / best of {', '.join(peers)} |")
    print("|---|---|" + "---|" * (len(libs) + 1))
    ratios = {}
    for t in threads:
        for m in models:
            cells = [med.get((lib, t, m["name"])) for lib in libs]
            best = min((c for c in cells[1:] if c is not None), default=None)
            r = best / cells[0] if best and cells[0] else None
            if r:
                ratios.setdefault(t, []).append(r)
            ratio = f"{r:.2f}x" if r else "–"
            print(f"| {m['name']} | {t} | " + " | ".join(f"{c:.3g}" if c else "–" for c in cells) + f" | {ratio} |")
    for t, rs in ratios.items():
        g = statistics.geometric_mean(rs)
        print(f"\n{t} thread(s): geometric mean {g:.2f}x, min {min(rs):.2f}x over {len(rs)} models")
    print("\nLayers, worst ratio first (convt speed / best peer):")
    rows = []
    for t in threads:
        for m in models:
            for layer in m["layers"]:
                c = med.get(("convt", t, layer["name"]))
                peer = {p: med[(p, t, layer["name"])] for p in peers if (p, t, layer["name"]) in med}
                if c and peer:
                    best = min(peer, key=peer.get)
                    rows.append((peer[best] / c, t, layer["name"], c, best, peer[best]))
    for r, t, name, c, best, b in sorted(rows):
        print(f"  {r:.2f}x  {t}T  {name}: convt {c:.3g} ms, {best} {b:.3g} ms")
    return 0 if all(ok.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

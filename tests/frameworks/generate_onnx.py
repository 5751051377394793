#!/usr/bin/env python3
"""Golden vectors from onnxruntime running ONNX ConvTranspose nodes, for
tests/test_frameworks.cpp; writes onnxruntime.{cases,npy}. Run by
tests/frameworks/regenerate.sh with the versions pinned there.

Each case also records what ONNX's reference implementation
(onnx.reference) gives for the same node — the same values, other values,
or an error — because the two disagree on output_shape past the full
result and on negative total padding; convt follows onnxruntime.
"""
import itertools
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden import Writer, csv, ints  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def error_text(e):
    return f"{type(e).__name__}: {' '.join(str(e).split())[:300]}"


def model(x_shape, w_shape, bias, attrs):
    inputs = ["X", "W"] + (["B"] if bias else [])
    node = helper.make_node("ConvTranspose", inputs, ["Y"], **attrs)
    info = [helper.make_tensor_value_info("X", TensorProto.FLOAT, x_shape),
            helper.make_tensor_value_info("W", TensorProto.FLOAT, w_shape)]
    if bias:
        info.append(helper.make_tensor_value_info("B", TensorProto.FLOAT, (w_shape[1] * attrs.get("group", 1),)))
    graph = helper.make_graph([node], "convtranspose", info, [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def onnx_cases(w):
    rng = np.random.default_rng(20261130)
    configs = []
    for n, k, s, ap in itertools.product([1, 2, 3], [1, 2, 3, 4], [1, 2, 3], ["NOTSET", "SAME_UPPER", "SAME_LOWER",
                                                                              "VALID"]):
        if (n * 7 + k * 5 + s * 3 + len(ap)) % 5:
            continue
        configs.append((n, k, s, ap))
    i = 0
    for n, k, s, ap in configs:
        for variant in ("plain", "pads", "output_padding", "output_shape", "output_shape_long", "output_shape_bad",
                        "group", "dilation"):
            i += 1
            if ap != "NOTSET" and variant in ("pads",):
                continue
            group = 2 if variant == "group" else 1
            cin, m = 2 * group, 3 * group
            in_sp = (4, 3, 2)[:n]
            kernel = tuple(max(1, k - d) for d in range(n))
            strides = tuple(s if d == 0 else 1 + (s + d) % 2 for d in range(n))
            dil = tuple(2 if variant == "dilation" and d == 0 else 1 for d in range(n))
            attrs = {"strides": list(strides), "kernel_shape": list(kernel)}
            if ap != "NOTSET":
                attrs["auto_pad"] = ap
            if variant == "pads":
                attrs["pads"] = [(i + d) % 3 for d in range(n)] + [(i * 2 + d) % 2 for d in range(n)]
            if variant == "output_padding":
                attrs["output_padding"] = [min(1, max(strides[d], dil[d]) - 1) for d in range(n)]
            if variant == "dilation":
                attrs["dilations"] = list(dil)
            if variant == "group":
                attrs["group"] = group
            full = [(in_sp[d] - 1) * strides[d] + (kernel[d] - 1) * dil[d] + 1 for d in range(n)]
            if variant == "output_shape":
                attrs["output_shape"] = [f - 1 for f in full]
            if variant == "output_shape_long":
                attrs["output_shape"] = [f + strides[d] - 1 for d, f in enumerate(full)]
            if variant == "output_shape_bad":
                attrs["output_shape"] = [f + strides[d] for d, f in enumerate(full)]
            bias = i % 2 == 0
            x = ints(rng, (1, cin) + in_sp).astype(np.float32)
            wt = ints(rng, (cin, m // group) + kernel).astype(np.float32)
            b = ints(rng, (m,)).astype(np.float32)
            feeds = {"X": x, "W": wt}
            if bias:
                feeds["B"] = b
            mdl = model(x.shape, wt.shape, bias, attrs)
            fields = {"dims": n, "auto_pad": ap, "strides": csv(strides), "kernel_shape": csv(kernel),
                      "dilations": csv(dil), "group": group,
                      "pads": csv(attrs["pads"]) if "pads" in attrs else "none",
                      "output_padding": csv(attrs["output_padding"]) if "output_padding" in attrs else "none",
                      "output_shape": csv(attrs["output_shape"]) if "output_shape" in attrs else "none",
                      "lhs": w.array(x), "rhs": w.array(wt)}
            if bias:
                fields["bias"] = w.array(b)
            try:
                ref = np.asarray(ReferenceEvaluator(mdl).run(None, feeds)[0])
            except Exception:  # noqa: BLE001
                ref = None
            name = f"onnx{i}_{n}d_k{k}_s{s}_{ap}_{variant}"
            try:
                session = ort.InferenceSession(mdl.SerializeToString(), providers=["CPUExecutionProvider"])
                y = session.run(None, feeds)[0]
            except Exception as e:  # noqa: BLE001  (onnxruntime rejected it)
                fields["reference"] = "error" if ref is None else "computes"
                w.case(name, fields, error=error_text(e))
                continue
            same = ref is not None and ref.shape == y.shape and np.array_equal(ref, y)
            fields["reference"] = "same" if same else ("error" if ref is None else "differs")
            fields["result"] = w.array(y.astype(np.float64))
            w.case(name, fields)


def main():
    versions = f"onnx {onnx.__version__}, onnxruntime {ort.__version__}, numpy {np.__version__}"
    ow = Writer(HERE, "onnxruntime", [f"generated by generate_onnx.py with {versions} (CPUExecutionProvider, opset 17)",
                                      "ConvTranspose(X, W[, B]) attributes; reference= what onnx.reference gives"])
    onnx_cases(ow)
    ow.write()


if __name__ == "__main__":
    main()

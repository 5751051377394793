#!/usr/bin/env python3
"""Golden vectors from JAX itself (jax.lax.conv_transpose on CPU, x64
enabled) and from Flax (flax.linen.ConvTranspose), for
tests/test_frameworks.cpp. Run by tests/frameworks/regenerate.sh with the
versions pinned there; writes jax.{cases,npy} and flax.{cases,npy}.

Values are small integers, so every sum is exact in every dtype (bfloat16
included) and convt must reproduce JAX's results exactly.
"""
import itertools
import os
import sys

import numpy as np

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")
import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402

import flax  # noqa: E402
import flax.linen as nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden import Writer, csv, ints  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16, "bfloat16": jnp.bfloat16,
          "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64, "uint8": np.uint8,
          "complex64": np.complex64, "complex128": np.complex128}
DEFAULT_DN = {1: ("NHC", "HIO", "NHC"), 2: ("NHWC", "HWIO", "NHWC"), 3: ("NHWDC", "HWDIO", "NHWDC")}


def shape_in(spec, extents):
    """Array shape for layout `spec` from a letter -> extent map."""
    return tuple(extents[c] for c in spec)


def pad_field(padding):
    return padding if isinstance(padding, str) else ",".join(f"{lo}:{hi}" for lo, hi in padding)


def precision_field(p):
    if p is None:
        return "default"
    if isinstance(p, tuple):
        return ",".join(precision_field(q) for q in p)
    return str(p).split(".")[-1].lower()


def error_text(e):
    return f"{type(e).__name__}: {str(e).splitlines()[0]}"


class Cases:
    def __init__(self, writer):
        self.w = writer
        self.rng = np.random.default_rng(20261126)

    def operands(self, lhs_shape, rhs_shape, dtype, lo=-3, hi=3):
        t = DTYPES[dtype]
        if np.issubdtype(np.dtype(t), np.unsignedinteger):
            lo = 0
        x, k = ints(self.rng, lhs_shape, lo, hi), ints(self.rng, rhs_shape, lo, hi)
        if np.issubdtype(np.dtype(t), np.complexfloating):
            x = x + 1j * ints(self.rng, lhs_shape, lo, hi)
            k = k + 1j * ints(self.rng, rhs_shape, lo, hi)
        return x.astype(t), k.astype(t)

    def conv_transpose(self, name, n, extents, kernel, strides, padding, dn=None, dilation=None, tk=False,
                       precision=None, dtype="float32", out=None, consistent=False, dn_form="strings", rhs_fix=None):
        dn_strings = dn or DEFAULT_DN[n]
        letters = [c for c in dn_strings[1] if c not in "OI"]
        ext = dict(extents)
        for c, kk in zip(letters, kernel):
            ext[c + "k"] = kk
        lhs_shape = shape_in(dn_strings[0], ext)
        # F output features; with transpose_kernel 'O' holds the input features.
        rhs_ext = {"O": extents["C"], "I": extents["F"]} if tk else {"O": extents["F"], "I": extents["C"]}
        rhs_ext.update({c: ext[c + "k"] for c in letters})
        rhs_ext.update(rhs_fix or {})
        rhs_shape = shape_in(dn_strings[1], rhs_ext)
        x, k = self.operands(lhs_shape, rhs_shape, dtype)
        dn_arg = dn
        if dn_form == "ConvDimensionNumbers":
            dn_arg = lax.conv_dimension_numbers(lhs_shape, rhs_shape, dn_strings)
        fields = {"fn": "conv_transpose", "dtype": dtype, "out": out or dtype, "lhs": self.w.array(x),
                  "rhs": self.w.array(k), "strides": csv(strides), "padding": pad_field(padding),
                  "dilation": csv(dilation or (1,) * n), "dn": ",".join(dn_strings), "dn_form": dn_form,
                  "tk": int(tk), "consistent": int(consistent), "precision": precision_field(precision)}
        try:
            y = lax.conv_transpose(x, k, strides, padding, rhs_dilation=dilation, dimension_numbers=dn_arg,
                                   transpose_kernel=tk, precision=precision,
                                   preferred_element_type=DTYPES[out] if out else None,
                                   use_consistent_padding=consistent)
        except Exception as e:  # noqa: BLE001  (what JAX rejects, convt must reject)
            self.w.case(name, fields, error=error_text(e))
            return
        y = np.asarray(y)
        assert y.dtype == np.dtype(DTYPES[out or dtype]), (name, y.dtype)
        fields["result"] = self.w.array(y.astype(np.complex128 if np.iscomplexobj(y) else np.float64))
        self.w.case(name, fields)

    def reject_dn(self, name, dn):
        """Layout strings JAX rejects, on NHWC / HWIO operands."""
        x, k = self.operands((1, 4, 5, 3), (3, 3, 3, 2), "float32")
        fields = {"fn": "conv_transpose", "dtype": "float32", "out": "float32", "lhs": self.w.array(x),
                  "rhs": self.w.array(k), "strides": "2,2", "padding": "SAME", "dilation": "1,1", "dn": ",".join(dn),
                  "dn_form": "strings", "tk": 0, "consistent": 0, "precision": "default"}
        try:
            lax.conv_transpose(x, k, (2, 2), "SAME", dimension_numbers=dn)
            raise AssertionError(name + ": JAX accepted it")
        except (TypeError, ValueError) as e:
            self.w.case(name, fields, error=error_text(e))

    def grouped(self, name, n, batch, cin, cout, groups, in_sp, kernel, strides, pads, dilation, tk, dn):
        """convt's feature_group_count against JAX: conv_general_dilated with
        lhs_dilation = strides (without transpose_kernel), or the gradient of
        a grouped forward convolution (with it: PyTorch's grouped
        ConvTranspose)."""
        letters = [c for c in dn[1] if c not in "OI"]
        cg = cin // groups
        og = cout // groups
        ext = {"N": batch, "C": cin}
        ext.update(dict(zip(letters, in_sp)))
        x = None
        if not tk:
            rhs_ext = {"O": cout, "I": cg}
            rhs_ext.update(dict(zip(letters, kernel)))
            x, k = self.operands(shape_in(dn[0], ext), shape_in(dn[1], rhs_ext), "float32")
            y = lax.conv_general_dilated(x, k, (1,) * n, pads, strides, dilation, dn, feature_group_count=groups)
            padding, consistent = pads, False
        else:
            # Forward conv: input features cout, output features cin, kernel
            # (O = cin, I = cout / groups); its input's extent so that its
            # output has in_sp exactly.
            rhs_ext = {"O": cin, "I": og}
            rhs_ext.update(dict(zip(letters, kernel)))
            dk = [(kk - 1) * r + 1 for kk, r in zip(kernel, dilation)]
            fwd_in = [(i - 1) * s + d - lo - hi for i, s, d, (lo, hi) in zip(in_sp, strides, dk, pads)]
            fwd_ext = {"N": batch, "C": cout}
            fwd_ext.update(dict(zip(letters, fwd_in)))
            x, k = self.operands(shape_in(dn[0], ext), shape_in(dn[1], rhs_ext), "float32")
            probe = np.zeros(shape_in(dn[0], fwd_ext), np.float32)
            fwd = lambda v: lax.conv_general_dilated(v, k, strides, pads, None, dilation, dn,  # noqa: E731
                                                     feature_group_count=groups)
            assert fwd(probe).shape == x.shape, (name, fwd(probe).shape, x.shape)
            _, vjp = jax.vjp(fwd, probe)
            (y,) = vjp(x)
            padding, consistent = pads, True
        fields = {"fn": "conv_transpose", "dtype": "float32", "out": "float32", "lhs": self.w.array(x),
                  "rhs": self.w.array(k), "result": self.w.array(np.asarray(y).astype(np.float64)),
                  "strides": csv(strides), "padding": pad_field(padding), "dilation": csv(dilation),
                  "dn": ",".join(dn), "dn_form": "strings", "tk": int(tk), "consistent": int(consistent),
                  "precision": "default", "groups": groups,
                  "jax_call": "conv_general_dilated" if not tk else "vjp_of_grouped_conv"}
        self.w.case(name, fields)


def jax_cases(c):
    # Strides, SAME/VALID/explicit (incl. negative) padding, dilation and
    # transpose_kernel over ranks with 1 to 3 spatial dimensions.
    grid = itertools.product([1, 2, 3], [1, 2, 3, 4], ["SAME", "VALID", "explicit"], [False, True], [1, 2])
    for i, (s, kk, pad, tk, r) in enumerate(grid):
        if (s * 7 + kk * 3 + r + tk) % 3:  # a third of the grid per rank
            continue
        n = 1 + i % 3
        explicit = [((i + d) % 4 - 1, (i * 3 + d) % 5 - 2) for d in range(n)]
        padding = pad if pad != "explicit" else explicit
        ext = {"N": 1 + i % 2, "C": 2, "F": 3, "H": 4, "W": 3, "D": 3}
        strides = tuple(s if d == 0 else 1 + (s + d) % 3 for d in range(n))
        c.conv_transpose(f"grid{i}_{n}d_s{s}_k{kk}_{pad}_r{r}_tk{int(tk)}", n, ext, (kk,) * n, strides, padding,
                         dilation=tuple(r if d == 0 else 1 for d in range(n)), tk=tk)
    # use_consistent_padding: explicit pairs as the forward convolution's.
    for i, pads in enumerate([[(0, 0)], [(1, 1)], [(2, 0)], [(1, 2)], [(0, 1), (2, 1)]]):
        n = len(pads)
        ext = {"N": 1, "C": 3, "F": 2, "H": 5, "W": 4}
        c.conv_transpose(f"consistent{i}", n, ext, (3,) * n, (2,) * n, pads, tk=i % 2 == 1, consistent=True)
    # dimension_numbers as strings and as ConvDimensionNumbers, permuted.
    for i, dn in enumerate([("NCHW", "OIHW", "NCHW"), ("NHWC", "OIHW", "NCHW"), ("CNHW", "IOWH", "HWNC"),
                            ("WCNH", "HOWI", "NWHC"), ("NCH", "HIO", "HCN"), ("NDCHW", "DHWOI", "NCDHW")]):
        n = len(dn[0]) - 2
        ext = {"N": 2, "C": 3, "F": 2, "H": 4, "W": 3, "D": 3}
        for form in ("strings", "ConvDimensionNumbers"):
            c.conv_transpose(f"dn{i}_{form}", n, ext, (3, 2, 2)[:n], (2, 1, 3)[:n], "SAME", dn=dn, dn_form=form,
                             tk=i % 2 == 0)
    # Four spatial dimensions (no JAX default layout: explicit strings).
    c.conv_transpose("rank6", 4, {"N": 1, "C": 2, "F": 2, "H": 2, "W": 3, "D": 2, "T": 2}, (2, 2, 1, 2),
                     (2, 1, 2, 1), "VALID", dn=("NHWDTC", "HWDTIO", "NHWDTC"))
    # precision values and (lhs, rhs) pairs.
    for i, p in enumerate([lax.Precision.DEFAULT, lax.Precision.HIGH, lax.Precision.HIGHEST,
                           (lax.Precision.HIGHEST, lax.Precision.DEFAULT),
                           (lax.Precision.DEFAULT, lax.Precision.HIGH)]):
        c.conv_transpose(f"precision{i}", 2, {"N": 1, "C": 3, "F": 2, "H": 4, "W": 4}, (3, 3), (2, 2),
                         "SAME", precision=p, dtype="float32" if i != 2 else "float64")
    # Element types and preferred_element_type (small channel counts keep
    # every sum exact in bfloat16 too).
    pairs = [("float64", None), ("float16", None), ("bfloat16", None), ("int8", "int32"), ("int8", None),
             ("int16", "int64"), ("int32", None), ("int64", None), ("uint8", None), ("uint8", "int8"),
             ("uint8", "int32"), ("bfloat16", "float32"), ("float16", "float32"), ("float16", "bfloat16"),
             ("bfloat16", "float16"), ("float32", "float64"), ("int8", "float32"), ("int16", "bfloat16"),
             ("complex64", None), ("complex64", "complex128"), ("complex128", None)]
    for i, (dt, out) in enumerate(pairs):
        c.conv_transpose(f"type{i}_{dt}_{out or dt}", 2, {"N": 1, "C": 2, "F": 3, "H": 3, "W": 4}, (3, 2),
                         (2, 2), "SAME", dtype=dt, out=out, tk=i % 3 == 0)
    # Feature groups (convt's extension) against conv_general_dilated and
    # against the gradient of a grouped convolution.
    c.grouped("groups_2d", 2, 2, 4, 6, 2, (3, 4), (3, 2), (2, 1), [(1, 1), (0, 1)], (1, 2), False,
              ("NHWC", "HWIO", "NHWC"))
    c.grouped("groups_depthwise_1d", 1, 1, 3, 3, 3, (5,), (4,), (2,), [(2, 1)], (1,), False, ("NCH", "OIH", "NCH"))
    c.grouped("groups_tk_2d", 2, 1, 4, 6, 2, (3, 3), (3, 3), (2, 2), [(1, 1), (1, 0)], (1, 1), True,
              ("NCHW", "OIHW", "NCHW"))
    c.grouped("groups_tk_depthwise_mult2", 2, 2, 3, 6, 3, (3, 4), (4, 4), (2, 2), [(1, 1), (1, 1)], (1, 1), True,
              ("NCHW", "OIHW", "NCHW"))
    # What JAX rejects (convt must reject each at run time too).
    base = {"N": 1, "C": 3, "F": 2, "H": 4, "W": 5}
    c.conv_transpose("reject_features", 2, base, (3, 3), (2, 2), "SAME", dn=("NHWC", "HWIO", "NHWC"), rhs_fix={"I": 4})
    c.conv_transpose("reject_stride0", 2, base, (3, 3), (2, 0), "SAME")
    c.conv_transpose("reject_dilation0", 2, base, (3, 3), (1, 1), "SAME", dilation=(1, 0))
    c.conv_transpose("reject_pad_count", 2, base, (3, 3), (1, 1), [(0, 0)])
    c.conv_transpose("reject_pad_crop", 2, base, (3, 3), (1, 1), [(-3, -2), (0, 0)])
    c.conv_transpose("reject_tk_features", 2, base, (3, 3), (2, 2), "SAME", tk=True, rhs_fix={"O": 2})
    c.reject_dn("reject_dn_duplicate", ("NHHC", "HWIO", "NHWC"))
    c.reject_dn("reject_dn_length", ("NHWCX", "HWIO", "NHWC"))
    c.reject_dn("reject_dn_spatial", ("NHWC", "HWIO", "NHDC"))
    c.reject_dn("reject_dn_no_O", ("NHWC", "HWIX", "NHWC"))
    c.conv_transpose("accept_pad_crop_to_zero", 2, base, (3, 3), (1, 1), [(-2, -2), (0, 0)])
    c.conv_transpose("accept_empty_input", 2, dict(base, H=0), (3, 3), (2, 2), "SAME")


def flax_cases(w):
    """flax.linen.ConvTranspose layers (kernel and bias from a fixed init),
    including padding='CIRCULAR'."""
    rng = np.random.default_rng(20261127)
    layers = [
        ("same_2d", dict(features=3, kernel_size=(3, 3), strides=(2, 2), padding="SAME"), (1, 4, 5, 2)),
        ("valid_1d_bias", dict(features=2, kernel_size=(4,), strides=(3,), padding="VALID"), (2, 5, 3)),
        ("int_pad_2d", dict(features=2, kernel_size=(3, 2), strides=(2, 1), padding=1), (1, 3, 4, 3)),
        ("pairs_2d_tk", dict(features=3, kernel_size=(3, 3), strides=(2, 2), padding=((2, 1), (0, 2)),
                             transpose_kernel=True), (1, 3, 3, 2)),
        ("dilated_1d", dict(features=2, kernel_size=(3,), strides=(1,), padding="SAME", kernel_dilation=(2,)),
         (1, 6, 2)),
        ("circular_2d_tk", dict(features=2, kernel_size=(6, 6), strides=(2, 2), padding="CIRCULAR",
                                transpose_kernel=True), (1, 5, 5, 2)),
        ("circular_1d", dict(features=3, kernel_size=(4,), strides=(3,), padding="CIRCULAR"), (1, 4, 2)),
        ("circular_1d_k1", dict(features=2, kernel_size=(1,), strides=(2,), padding="CIRCULAR"), (2, 3, 2)),
        ("circular_2d_big_kernel", dict(features=2, kernel_size=(7, 3), strides=(1, 2), padding="CIRCULAR"),
         (1, 3, 4, 2)),
        ("circular_3d", dict(features=2, kernel_size=(3, 2, 3), strides=(2, 1, 2), padding="CIRCULAR"),
         (1, 2, 3, 2, 2)),
        ("no_bias_3d", dict(features=2, kernel_size=(2, 2, 2), strides=(2, 2, 2), padding="VALID", use_bias=False),
         (1, 2, 2, 3, 2)),
    ]
    for name, kwargs, in_shape in layers:
        layer = nn.ConvTranspose(**kwargs)
        x = ints(rng, in_shape).astype(np.float32)
        params = layer.init(jax.random.key(0), x)["params"]
        kernel = ints(rng, params["kernel"].shape).astype(np.float32)
        new = {"kernel": kernel}
        if "bias" in params:
            new["bias"] = ints(rng, params["bias"].shape).astype(np.float32)
        y = np.asarray(layer.apply({"params": new}, x))
        pad = kwargs.get("padding", "SAME")
        if isinstance(pad, int):
            pad_field = str(pad)
        elif isinstance(pad, str):
            pad_field = pad
        else:
            pad_field = ",".join(f"{lo}:{hi}" for lo, hi in pad)
        fields = {"features": kwargs["features"], "kernel_size": csv(kwargs["kernel_size"]),
                  "strides": csv(kwargs["strides"]), "padding": pad_field,
                  "kernel_dilation": csv(kwargs.get("kernel_dilation", (1,) * len(kwargs["kernel_size"]))),
                  "use_bias": int(kwargs.get("use_bias", True)), "transpose_kernel": int(kwargs.get("transpose_kernel", False)),
                  "lhs": w.array(x), "rhs": w.array(kernel), "result": w.array(y.astype(np.float64))}
        if "bias" in new:
            fields["bias"] = w.array(new["bias"])
        w.case(name, fields)


def main():
    versions = f"jax {jax.__version__}, jaxlib {jax.lib.__version__}, flax {flax.__version__}, numpy {np.__version__}"
    jw = Writer(HERE, "jax", [f"generated by generate_jax.py with {versions} (CPU, jax_enable_x64)",
                              "fields: see golden.py; fn=conv_transpose is jax.lax.conv_transpose's keywords"])
    jax_cases(Cases(jw))
    jw.write()
    fw = Writer(HERE, "flax", [f"generated by generate_jax.py with {versions}",
                               "flax.linen.ConvTranspose(features, kernel_size, strides, padding, kernel_dilation, "
                               "use_bias, transpose_kernel); inputs NHWC"])
    flax_cases(fw)
    fw.write()


if __name__ == "__main__":
    main()

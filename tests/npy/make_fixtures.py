#!/usr/bin/env python3
"""Writes the convt-npy fixtures: operands in assorted .npy encodings (format
versions 1-3, big-endian, Fortran order) and the expected result as
numpy.save writes it, so the test compares bytes.

The expected results come from jax.lax.conv_transpose's definition evaluated
with PyTorch (Debian's python3-torch), independently of convt: dilate the
input by the strides, pad it (negative pads crop), correlate with the
rhs-dilated kernel. Operand values are small integers, so every sum is exact in
every dtype and any summation order gives the same bits.

Each case adds a line to cases.txt: name, then convt-npy's options.
Run:  python3 tests/npy/make_fixtures.py   (from the repository root)
"""
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CONV = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d, 3: torch.nn.functional.conv3d}


def transpose_padding(k, s, padding):
    """jax._src.lax.convolution._conv_transpose_padding (k = dilated kernel)."""
    if padding == "SAME":
        pad_len = k + s - 2
        pad_a = k - 1 if s > k - 1 else int(np.ceil(pad_len / 2))
    else:  # VALID
        pad_len = k + s - 2 + max(k - s, 0)
        pad_a = k - 1
    return pad_a, pad_len - pad_a


def real_conv_transpose(x, w, strides, pads, dil):
    """x (N, C, *sp), w (O, I, *k), float64 numpy -> float64 numpy."""
    n_sp = x.ndim - 2
    t = torch.from_numpy(x)
    for d in range(n_sp):  # insert stride - 1 zeros between elements
        size = t.shape[2 + d]
        shape = list(t.shape)
        shape[2 + d] = max(0, (size - 1) * strides[d] + 1)
        z = torch.zeros(shape, dtype=t.dtype)
        idx = [slice(None)] * t.ndim
        idx[2 + d] = slice(None, None, strides[d])
        z[tuple(idx)] = t
        t = z
    for d, (lo, hi) in enumerate(pads):
        size = t.shape[2 + d]
        shape = list(t.shape)
        shape[2 + d] = max(lo, 0) + size + max(hi, 0)
        z = torch.zeros(shape, dtype=t.dtype)
        idx = [slice(None)] * t.ndim
        idx[2 + d] = slice(max(lo, 0), max(lo, 0) + size)
        z[tuple(idx)] = t
        crop = [slice(None)] * t.ndim
        crop[2 + d] = slice(max(-lo, 0), shape[2 + d] - max(-hi, 0))
        t = z[tuple(crop)]
    return CONV[n_sp](t, torch.from_numpy(w), dilation=tuple(dil)).numpy()


def conv_transpose(x, w, strides, padding, dil, transpose_kernel, consistent, groups=1):
    """jax.lax.conv_transpose on canonical operands: x (N, C, *sp),
    w as stored (O, I, *k) before transpose_kernel's flip and swap; with
    groups, each group of C / groups input channels separately (the kernel
    swapped within each group, as PyTorch's grouped ConvTranspose)."""
    if groups > 1:
        cg = x.shape[1] // groups
        wg = w.shape[0] // groups  # transpose_kernel: the C axis; else: the O axis
        return np.concatenate([conv_transpose(x[:, g * cg:(g + 1) * cg], w[g * wg:(g + 1) * wg], strides, padding,
                                              dil, transpose_kernel, consistent) for g in range(groups)], axis=1)
    n_sp = x.ndim - 2
    if transpose_kernel:
        w = np.flip(w, axis=tuple(range(2, w.ndim))).swapaxes(0, 1)
    kd = [(w.shape[2 + d] - 1) * dil[d] + 1 for d in range(n_sp)]
    if padding in ("SAME", "VALID"):
        pads = [transpose_padding(kd[d], strides[d], padding) for d in range(n_sp)]
    elif consistent:
        pads = [(kd[d] - 1 - lo, kd[d] - 1 - hi) for d, (lo, hi) in enumerate(padding)]
    else:
        pads = list(padding)
    if np.iscomplexobj(x):
        xr, xi, wr, wi = x.real.copy(), x.imag.copy(), np.ascontiguousarray(w.real), np.ascontiguousarray(w.imag)
        conv = lambda a, b: real_conv_transpose(a, b, strides, pads, dil)  # noqa: E731
        return conv(xr, wr) - conv(xi, wi) + 1j * (conv(xr, wi) + conv(xi, wr))
    return real_conv_transpose(x.astype(np.float64), np.ascontiguousarray(w, dtype=np.float64), strides, pads, dil)


def to_layout(a, spec, canonical):
    """Canonical (first, second, *spatial) array -> the axis order of `spec`."""
    return np.transpose(a, [canonical.index(c) for c in spec])


def save(path, a, version=None, byteorder=None, fortran=False):
    if byteorder:
        a = a.astype(a.dtype.newbyteorder(byteorder))
    a = np.asfortranarray(a) if fortran else np.ascontiguousarray(a)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, a, version=version)


# name, dtype, out dtype, lhs (N, C, *sp), kernel (O, I, *k), dn (lhs, rhs, out) or None for JAX's
# default, strides, padding, rhs_dilation, transpose_kernel, use_consistent_padding, extra options,
# lhs encoding, rhs encoding, value range
CASES = [
    ("f32_nhwc_same", np.float32, None, (2, 3, 5, 4), (2, 3, 3, 3), None, (2, 2), "SAME", (1, 1),
     False, False, [], {}, {}, 4),
    ("f64_ncw_tk_fortran_bigendian", np.float64, None, (2, 3, 7), (3, 4, 4), ("NCW", "OIW", "NCW"), (3,),
     [(3, -1)], (2,), True, False, [], {"fortran": True}, {"byteorder": ">", "version": (2, 0)}, 5),
    ("i8_i32_consistent", np.int8, np.int32, (1, 4, 6, 5), (3, 4, 3, 2), None, (2, 1), [(1, 0), (0, 1)],
     (1, 2), False, True, [], {}, {"version": (3, 0)}, 127),
    ("f16_ndhwc_valid", np.float16, None, (1, 2, 3, 2, 4), (2, 2, 2, 3, 2), None, (2, 1, 2), "VALID",
     (1, 1, 1), False, False, [], {"version": (3, 0)}, {"fortran": True}, 2),
    ("c64_nchw_highest", np.complex64, np.complex128, (1, 2, 4, 3), (3, 2, 3, 2), ("NCHW", "OIHW", "NCHW"),
     (1, 2), "SAME", (1, 1), False, False, ["--precision", "highest"], {}, {"byteorder": ">"}, 3),
    ("u8_f32_k2_s3", np.uint8, np.float32, (1, 2, 3, 3), (2, 2, 2, 2), None, (3, 3), "SAME", (1, 1),
     False, False, [], {}, {}, 255),
    ("i16_i64_bigendian_1d", np.int16, np.int64, (2, 2, 5), (2, 2, 3), None, (2,), "VALID", (3,),
     True, False, ["--threads", "1"], {"byteorder": ">"}, {}, 1000),
    # PyTorch's grouped ConvTranspose1d(6, 4, 3, stride=2, padding=1, groups=2): weight (6, 2, 3)
    ("f32_grouped_torch_1d", np.float32, None, (1, 6, 5), (6, 2, 3), ("NCW", "OIW", "NCW"), (2,), [(1, 1)], (1,),
     True, False, ["--feature-group-count", "2"], {}, {}, 4),
]

DEFAULT_DN = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC"), 3: ("NDHWC", "DHWIO", "NDHWC")}


def write_bad_inputs(rng):
    """Inputs convt-npy must refuse (exit 2, output untouched)."""
    good = os.path.join(HERE, "f32_nhwc_same_lhs.npy")
    with open(good, "rb") as f:
        data = f.read()
    bad = {
        "bad_truncated.npy": data[:-5],                                 # data shorter than the shape
        "bad_magic.npy": b"\x93NUMPX" + data[6:],
        "bad_version.npy": data[:6] + b"\x04\x00" + data[8:],
        "bad_header.npy": data.replace(b"'shape': (", b"'shape': [", 1),  # not a tuple
    }
    for name, content in bad.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(content)
    np.save(os.path.join(HERE, "bad_uint16.npy"), rng.integers(0, 9, size=(1, 2, 2, 1)).astype(np.uint16))
    np.save(os.path.join(HERE, "bad_rank2.npy"), rng.integers(0, 9, size=(2, 3)).astype(np.float32))
    np.save(os.path.join(HERE, "bad_structured.npy"), np.zeros((1, 2, 2, 1), dtype=[("a", "<f4"), ("b", "<i4")]))


# Layer epilogues (convt extensions): name, dtype, out dtype, lhs (N, C, *sp), PyTorch weight (C, O, *k),
# stride, PyTorch padding, bias?, activation, accumulate?. The expected result is PyTorch's
# conv_transposeNd(x, w, b) (plus the previous output), then the activation, all exact.
EPILOGUE_CASES = [
    ("f32_torch_bias_relu_2d", np.float32, None, (1, 4, 3, 5), (4, 3, 4, 4), (2, 2), (1, 1), True, "relu", False),
    ("f64_torch_leaky_relu_1d", np.float64, None, (2, 3, 6), (3, 2, 5), (3,), (2,), True, "leaky_relu:0.25", False),
    ("i8_i32_bias_clamp_accumulate", np.int8, np.int32, (1, 3, 4, 4), (3, 5, 3, 3), (2, 2), (1, 1), True,
     "clamp:-40:40", True),
]
ACTIVATIONS = {"relu": lambda y: np.maximum(y, 0), "leaky_relu:0.25": lambda y: np.where(y < 0, 0.25 * y, y),
               "clamp:-40:40": lambda y: np.clip(y, -40, 40)}


def write_epilogue_cases(lines):
    rng = np.random.default_rng(20261126)
    fn = {1: torch.nn.functional.conv_transpose1d, 2: torch.nn.functional.conv_transpose2d}
    for name, dtype, out_dtype, lshape, wshape, stride, padding, bias, act, accumulate in EPILOGUE_CASES:
        n_sp = len(lshape) - 2
        x = rng.integers(-4, 5, size=lshape).astype(np.float64)
        w = rng.integers(-4, 5, size=wshape).astype(np.float64)
        b = rng.integers(-9, 10, size=(wshape[1],)).astype(np.float64)
        y = fn[n_sp](torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b) if bias else None, stride=stride,
                     padding=padding).numpy()
        prev = rng.integers(-20, 21, size=y.shape).astype(np.float64) if accumulate else np.zeros(y.shape)
        y = ACTIVATIONS[act](y + prev)
        res = out_dtype or dtype
        sp = "HW"[2 - n_sp:] if n_sp <= 2 else "DHW"
        np.save(os.path.join(HERE, f"{name}_lhs.npy"), x.astype(dtype))
        np.save(os.path.join(HERE, f"{name}_rhs.npy"), w.astype(dtype))
        np.save(os.path.join(HERE, f"{name}_bias.npy"), b.astype(res))
        np.save(os.path.join(HERE, f"{name}_out.npy"), y.astype(res))
        assert np.array_equal(y.astype(res).astype(np.float64), y), name + ": not exact"
        if accumulate:
            np.save(os.path.join(HERE, f"{name}_prev.npy"), prev.astype(res))
        # PyTorch padding p is forward-convolution padding: --use-consistent-padding p:p.
        args = ["--strides", ",".join(map(str, stride)), "--padding", ",".join(f"{p}:{p}" for p in padding),
                "--use-consistent-padding", "--dimension-numbers", f"NC{sp},OI{sp},NC{sp}", "--transpose-kernel",
                "--bias", "@bias", "--activation", act]
        if out_dtype is not None:
            args += ["--preferred-element-type", np.dtype(out_dtype).name]
        if accumulate:
            args.append("--accumulate")
        lines.append(" ".join([name] + args))


def main():
    rng = np.random.default_rng(20261125)
    lines = []
    for (name, dtype, out_dtype, lshape, kshape, dn, strides, padding, dil, tk, consistent, extra, lenc, renc,
         vmax) in CASES:
        n_sp = len(lshape) - 2
        dn = dn or DEFAULT_DN[n_sp]
        vmin = 0 if dtype == np.uint8 else -vmax
        draw = lambda shape: rng.integers(vmin, vmax + 1, size=shape).astype(np.float64)  # noqa: E731
        x, w = draw(lshape), draw(kshape)
        if np.dtype(dtype).kind == "c":
            x, w = x + 1j * draw(lshape), w + 1j * draw(kshape)
        groups = int(extra[extra.index("--feature-group-count") + 1]) if "--feature-group-count" in extra else 1
        y = conv_transpose(x, w, strides, padding, dil, tk, consistent, groups)
        if name.endswith("_torch_1d"):  # the same layer in PyTorch itself
            pads = padding[0]
            torch_y = torch.nn.functional.conv_transpose1d(
                torch.from_numpy(x), torch.from_numpy(w), stride=strides[0], padding=w.shape[2] - 1 - pads[0],
                groups=groups).numpy()
            assert np.array_equal(torch_y, y), name + ": differs from torch.nn.functional.conv_transpose1d"
        sp = dn[1].replace("O", "").replace("I", "")  # spatial letters in rhs order
        lhs = to_layout(x.astype(dtype), dn[0], "NC" + sp)
        rhs = to_layout(w.astype(dtype), dn[1], "OI" + sp)
        out = to_layout(y.astype(out_dtype or dtype), dn[2], "NC" + sp)
        assert np.array_equal(out.astype(np.complex128), to_layout(y, dn[2], "NC" + sp)), name + ": not exact"
        save(os.path.join(HERE, f"{name}_lhs.npy"), lhs, **lenc)
        save(os.path.join(HERE, f"{name}_rhs.npy"), rhs, **renc)
        np.save(os.path.join(HERE, f"{name}_out.npy"), np.ascontiguousarray(out))
        args = ["--strides", ",".join(map(str, strides))]
        args += ["--padding", padding if isinstance(padding, str) else ",".join(f"{lo}:{hi}" for lo, hi in padding)]
        if any(d != 1 for d in dil):
            args += ["--rhs-dilation", ",".join(map(str, dil))]
        if dn != DEFAULT_DN[n_sp]:
            args += ["--dimension-numbers", ",".join(dn)]
        if tk:
            args.append("--transpose-kernel")
        if consistent:
            args.append("--use-consistent-padding")
        if out_dtype is not None:
            args += ["--preferred-element-type", np.dtype(out_dtype).name]
        lines.append(" ".join([name] + args + extra))
    write_bad_inputs(rng)
    write_epilogue_cases(lines)
    with open(os.path.join(HERE, "cases.txt"), "w") as f:
        f.write(f"# generated by make_fixtures.py with torch {torch.__version__}, numpy {np.__version__}\n")
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

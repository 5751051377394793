#!/usr/bin/env python3
"""Golden vectors from TensorFlow (tf.nn.conv{1,2,3}d_transpose) and Keras 3
(keras.layers.Conv{1,2,3}DTranspose) for tests/test_frameworks.cpp. Run by
tests/frameworks/regenerate.sh with the versions pinned there:

  KERAS_BACKEND=tensorflow generate_tf.py tf      -> tensorflow.{cases,npy}, keras_tensorflow.{cases,npy}
  KERAS_BACKEND=jax        generate_tf.py keras   -> keras_jax.{cases,npy}

TensorFlow's CPU kernels take channels-first data only through oneDNN and
some dilated layers only with it (TF_ENABLE_ONEDNN_OPTS=0 rejects them):
channels-first cases run channels-last in TensorFlow and are transposed, so
the values are TensorFlow's and the layout is the case's.
"""
import itertools
import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden import Writer, csv, ints  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def error_text(e):
    return f"{type(e).__name__}: {str(e).strip().splitlines()[0]}"


def channels_last_to_first(a):
    return np.moveaxis(a, -1, 1)


def channels_first_to_last(a):
    return np.moveaxis(a, 1, -1)


def tf_cases(w):
    import tensorflow as tf
    rng = np.random.default_rng(20261128)
    fn = {1: tf.nn.conv1d_transpose, 2: tf.nn.conv2d_transpose, 3: tf.nn.conv3d_transpose}
    count = 0
    for n, k, s, pad, first in itertools.product([1, 2, 3], [1, 2, 3, 4], [1, 2, 3], ["SAME", "VALID", "EXPLICIT"],
                                                 [False, True]):
        if (n * 5 + k * 3 + s + len(pad) + first) % 4 or (n == 3 and pad == "EXPLICIT"):
            continue
        count += 1
        in_sp = (4, 3, 2)[:n]
        cin, cout = 2, 3
        kernel = tuple(k if d == 0 else max(1, k - d) for d in range(n))
        strides = tuple(s if d == 0 else 1 + (s + d) % 2 for d in range(n))
        dil = (1,) * n
        if pad == "EXPLICIT":
            pads = [((count + d) % 3, (count * 2 + d) % 3) for d in range(n)]
        # Every output extent the rule allows, and one past it.
        outs = []
        for d in range(n):
            dk = kernel[d]
            if pad == "SAME":
                lo, hi = (in_sp[d] - 1) * strides[d] + 1, in_sp[d] * strides[d]
            elif pad == "VALID":
                lo = (in_sp[d] - 1) * strides[d] + dk
                hi = lo + strides[d] - 1
            else:
                lo = (in_sp[d] - 1) * strides[d] + dk - sum(pads[d])
                hi = lo + strides[d] - 1
            outs.append((lo, hi))
        variants = [tuple(o[0] for o in outs), tuple(o[1] for o in outs), tuple(o[1] + 1 for o in outs)]
        for v, out_sp in enumerate(variants):
            x = ints(rng, (1,) + in_sp + (cin,)).astype(np.float32)
            f = ints(rng, kernel + (cout, cin)).astype(np.float32)
            padding = pad if pad != "EXPLICIT" else [[0, 0]] + [list(p) for p in pads] + [[0, 0]]
            name = f"tf{count}_{n}d_k{k}_s{s}_{pad}_{'nc' if first else 'nhwc'}_out{v}"
            fields = {"dims": n, "data_format": "NC" if first else "NHWC", "strides": csv(strides),
                      "padding": pad if pad != "EXPLICIT" else ",".join(f"{a}:{b}" for a, b in pads),
                      "dilations": csv(dil), "output_shape": csv((1,) + out_sp + (cout,) if not first else
                                                                 (1, cout) + out_sp),
                      "lhs": w.array(channels_last_to_first(x) if first else x), "rhs": w.array(f)}
            try:
                y = fn[n](x, f, output_shape=(1,) + out_sp + (cout,), strides=strides, padding=padding,
                          dilations=dil).numpy()
            except Exception as e:  # noqa: BLE001  (TensorFlow rejected it)
                w.case(name, fields, error=error_text(e))
                continue
            fields["result"] = w.array((channels_last_to_first(y) if first else y).astype(np.float64))
            w.case(name, fields)
    # Dilations, with stride 1 and with stride 2.
    for i, (k, r, s) in enumerate([(3, 2, 1), (2, 3, 1), (4, 2, 1), (3, 2, 2)]):
        x = ints(rng, (1, 5, 4, 2)).astype(np.float32)
        f = ints(rng, (k, k, 3, 2)).astype(np.float32)
        for pad in ("SAME", "VALID"):
            dk = (k - 1) * r + 1
            out = (5 * s, 4 * s) if pad == "SAME" else (4 * s + dk, 3 * s + dk)
            y = tf.nn.conv2d_transpose(x, f, output_shape=(1,) + out + (3,), strides=s, padding=pad,
                                       dilations=r).numpy()
            w.case(f"tf_dilated{i}_{pad}", {"dims": 2, "data_format": "NHWC", "strides": csv((s, s)), "padding": pad,
                                            "dilations": csv((r, r)), "output_shape": csv((1,) + out + (3,)),
                                            "lhs": w.array(x), "rhs": w.array(f),
                                            "result": w.array(y.astype(np.float64))})
    # Explicit padding TensorFlow rejects: negative, or on the batch.
    x = ints(rng, (1, 4, 4, 2)).astype(np.float32)
    f = ints(rng, (3, 3, 3, 2)).astype(np.float32)
    for name, pads, padding in (("tf_reject_negative_padding", "-1:0,0:0", [[0, 0], [-1, 0], [0, 0], [0, 0]]),
                                ("tf_reject_batch_padding", "batch", [[1, 0], [0, 0], [0, 0], [0, 0]])):
        fields = {"dims": 2, "data_format": "NHWC", "strides": "2,2", "padding": pads, "dilations": "1,1",
                  "output_shape": "1,9,9,3", "lhs": w.array(x), "rhs": w.array(f)}
        try:
            tf.nn.conv2d_transpose(x, f, output_shape=(1, 9, 9, 3), strides=2, padding=padding)
            raise AssertionError(name)
        except tf.errors.InvalidArgumentError as e:
            w.case(name, fields, error=error_text(e))


KERAS_LAYERS = [
    # (filters, kernel, strides, padding, output_padding, data_format, dilation, activation, use_bias, input shape)
    (3, (3, 3), (2, 2), "same", None, "channels_last", (1, 1), "relu", True, (1, 4, 5, 2)),
    (2, (4, 4), (2, 2), "same", None, "channels_first", (1, 1), "linear", True, (1, 2, 3, 4)),
    (2, (3,), (2,), "same", (1,), "channels_last", (1,), "linear", False, (2, 5, 3)),
    (2, (2,), (1,), "same", (0,), "channels_last", (1,), "linear", True, (1, 5, 2)),
    (3, (2, 2), (2, 2), "same", (0, 1), "channels_last", (1, 1), "relu6", True, (1, 3, 3, 2)),
    (2, (3, 3), (2, 1), "valid", None, "channels_last", (1, 1), "leaky_relu", True, (1, 3, 4, 2)),
    (2, (1, 3), (3, 2), "valid", (2, 1), "channels_first", (1, 1), "linear", False, (1, 2, 3, 3)),
    (2, (3, 3), (1, 1), "same", None, "channels_last", (2, 2), "relu", True, (1, 5, 5, 2)),
    (2, (3,), (1,), "valid", None, "channels_first", (3,), "linear", True, (1, 2, 6)),
    (2, (2, 2, 2), (2, 2, 2), "valid", None, "channels_last", (1, 1, 1), "linear", True, (1, 2, 3, 2, 2)),
    (2, (3, 2, 3), (2, 1, 2), "same", (1, 0, 0), "channels_first", (1, 1, 1), "relu", True, (1, 2, 2, 3, 2)),
    (2, (4,), (2,), "same", (1,), "channels_last", (1,), "linear", True, (1, 4, 2)),
]


def keras_cases(w, backend):
    rng = np.random.default_rng(20261129)
    for i, (filters, kernel, strides, padding, op, df, dil, act, bias, in_shape) in enumerate(KERAS_LAYERS):
        n = len(kernel)
        cls = {1: keras.layers.Conv1DTranspose, 2: keras.layers.Conv2DTranspose, 3: keras.layers.Conv3DTranspose}[n]
        x = ints(rng, in_shape).astype(np.float32)
        if act == "leaky_relu":
            x = 5 * x  # slope 0.2 of a multiple of 5: still an integer
        fields = {"filters": filters, "kernel_size": csv(kernel), "strides": csv(strides), "padding": padding,
                  "output_padding": "none" if op is None else csv(op), "data_format": df, "dilation_rate": csv(dil),
                  "activation": act, "use_bias": int(bias), "lhs": w.array(x)}
        name = f"keras{i}_{n}d_{padding}_{df}"
        cin = in_shape[1] if df == "channels_first" else in_shape[-1]
        k = ints(rng, kernel + (filters, cin)).astype(np.float32)
        b = ints(rng, (filters,)).astype(np.float32) * (5 if act == "leaky_relu" else 1)
        fields["rhs"] = w.array(k)
        if bias:
            fields["bias"] = w.array(b)
        try:
            layer = cls(filters, kernel, strides=strides, padding=padding, output_padding=op, data_format=df,
                        dilation_rate=dil, activation=None if act == "linear" else act, use_bias=bias)
            if backend == "tensorflow" and df == "channels_first":
                # TensorFlow's CPU kernels: run channels-last, transpose back.
                twin = cls(filters, kernel, strides=strides, padding=padding, output_padding=op,
                           data_format="channels_last", dilation_rate=dil,
                           activation=None if act == "linear" else act, use_bias=bias)
                twin.build(channels_first_to_last(x).shape)
                twin.set_weights([k, b] if bias else [k])
                y = channels_last_to_first(np.asarray(twin(channels_first_to_last(x))))
            else:
                layer.build(x.shape)
                layer.set_weights([k, b] if bias else [k])
                y = np.asarray(layer(x))
        except Exception as e:  # noqa: BLE001  (Keras or TensorFlow rejected the layer)
            w.case(name, fields, error=error_text(e))
            continue
        fields["result"] = w.array(y.astype(np.float64))
        w.case(name, fields)
    # What Keras rejects when the layer is made.
    for j, (s, d) in enumerate([((2,), (3,)), ((2, 1), (1, 2))]):
        n = len(s)
        x = ints(rng, (1,) + (4,) * n + (2,)).astype(np.float32)
        fields = {"filters": 6, "kernel_size": csv((3,) * n), "strides": csv(s), "padding": "same",
                  "output_padding": "none", "data_format": "channels_last", "dilation_rate": csv(d),
                  "activation": "linear", "use_bias": 0, "lhs": w.array(x), "rhs": w.array(np.zeros((3,) * n + (6, 2)))}
        try:
            cls = {1: keras.layers.Conv1DTranspose, 2: keras.layers.Conv2DTranspose}[n]
            cls(6, (3,) * n, strides=s, padding="same", dilation_rate=d)
            raise AssertionError("Keras accepted strides > 1 with dilation_rate > 1")
        except ValueError as e:
            w.case(f"keras_reject_strides_dilation{j}", fields, error=error_text(e))


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "tf"
    backend = keras.backend.backend()
    if what == "tf":
        import tensorflow as tf
        versions = f"tensorflow {tf.__version__}, keras {keras.__version__}, numpy {np.__version__}"
        tw = Writer(HERE, "tensorflow", [f"generated by generate_tf.py with {versions}",
                                         "tf.nn.conv{1,2,3}d_transpose(input, filters, output_shape, strides, "
                                         "padding, data_format, dilations); filters (k..., out, in)"])
        tf_cases(tw)
        tw.write()
    else:
        versions = f"keras {keras.__version__} ({backend} backend), numpy {np.__version__}"
        if backend == "jax":
            import jax
            versions += f", jax {jax.__version__}"
    assert backend == ("tensorflow" if what == "tf" else "jax"), backend
    kw = Writer(HERE, f"keras_{backend}", [f"generated by generate_tf.py with {versions}",
                                           "keras.layers.Conv{1,2,3}DTranspose(filters, kernel_size, strides, "
                                           "padding, output_padding, data_format, dilation_rate, activation, use_bias)"])
    keras_cases(kw, backend)
    kw.write()


if __name__ == "__main__":
    main()

"""The file format of convt's framework golden vectors (read by
tests/test_frameworks.cpp). A framework's cases are two files:

  <name>.cases  one case per line: space-separated key=value fields (no
                spaces in values) and, for cases the framework rejects, a last
                field error=<the framework's message, to the end of the line>;
                lines starting with # are comments (versions, how to
                regenerate);
  <name>.npy    every operand and result of every case, flattened into one
                int32 array (all values are small integers, so every sum is
                exact in every dtype); a field lhs=OFFSET:2x3x5 names a slice
                of it and its shape. Complex arrays store (real, imaginary)
                pairs.

The generators write both deterministically, so a rerun with the pinned
versions reproduces the committed files byte for byte.
"""
import os

import numpy as np


class Writer:
    def __init__(self, directory, name, header):
        self.path = os.path.join(directory, name)
        self.values = []
        self.count = 0
        self.lines = [f"# {line}" for line in header]

    def array(self, a):
        """Appends `a` (integer-valued) and returns its OFFSET:SHAPE field value."""
        a = np.asarray(a)
        if np.iscomplexobj(a):
            flat = np.stack([a.real.ravel(), a.imag.ravel()], axis=1).ravel()
        else:
            flat = a.astype(np.float64).ravel()
        ints = np.rint(flat)
        assert np.array_equal(ints, flat), "golden values must be integers"
        assert np.all(np.abs(ints) < 2 ** 31), "golden values must fit int32"
        offset = self.count
        self.values.append(ints.astype(np.int32))
        self.count += ints.size
        shape = "x".join(str(int(e)) for e in a.shape) if a.ndim else "scalar"
        return f"{offset}:{shape if a.size or a.ndim else '0'}"

    def case(self, name, fields, error=None):
        parts = [f"case={name}"] + [f"{k}={v}" for k, v in fields.items()]
        for p in parts:
            assert " " not in p, p
        if error is not None:
            parts.append("error=" + " ".join(str(error).split()))
        self.lines.append(" ".join(parts))

    def write(self):
        data = np.concatenate(self.values) if self.values else np.zeros(0, np.int32)
        np.save(self.path + ".npy", data)
        with open(self.path + ".cases", "w") as f:
            f.write("\n".join(self.lines) + "\n")
        print(f"{self.path}: {sum(1 for l in self.lines if l.startswith('case='))} cases, {data.size} values")


def ints(rng, shape, lo=-3, hi=3):
    return rng.integers(lo, hi + 1, size=shape).astype(np.float64)


def csv(seq):
    return ",".join(str(int(v)) for v in seq)

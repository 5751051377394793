#!/usr/bin/env python3
"""Prints README's "Verified against" table from the committed golden files
(tests/frameworks/*.cases): framework, the versions that produced them (the
files' own header), what the cases cover, and how many cases the framework
computed and rejected. `--write README.md` replaces the table between the
README's verified-against markers; regenerate.sh runs it. Standard library
only."""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BEGIN, END = "<!-- verified-against:begin -->", "<!-- verified-against:end -->"

# file stem, framework as users name it, what the generator covers
FILES = [
    ("jax", "JAX `jax.lax.conv_transpose`",
     "strides; SAME/VALID/explicit incl. negative padding; `rhs_dilation`; layouts as strings and "
     "`ConvDimensionNumbers`, permuted; 1–3 spatial dims; `transpose_kernel`; `precision` values and pairs; "
     "`preferred_element_type` (20 type pairs); `use_consistent_padding`; feature groups via "
     "`conv_general_dilated` and the gradient of a grouped conv"),
    ("flax", "Flax `linen.ConvTranspose`",
     "SAME/VALID/CIRCULAR/int/pairs padding, `kernel_dilation`, `transpose_kernel`, `use_bias`, 1–3-D"),
    ("tensorflow", "TensorFlow `tf.nn.conv{1,2,3}d_transpose`",
     "`output_shape` (every valid and invalid length), SAME/VALID, explicit padding lists (2-D), "
     "both data formats, dilations"),
    ("keras_tensorflow", "Keras 3 `Conv{1,2,3}DTranspose`, TensorFlow backend",
     "same/valid, `output_padding`, both data formats, dilation, activation, `use_bias`"),
    ("keras_jax", "Keras 3 `Conv{1,2,3}DTranspose`, JAX backend", "as above, where the backends differ"),
    ("onnxruntime", "ONNX Runtime `ConvTranspose`",
     "auto_pad NOTSET/SAME_UPPER/SAME_LOWER/VALID, pads, `output_padding`, `output_shape`, dilations, group, "
     "`kernel_shape`, bias `B`, 1–3-D; onnx.reference's answer recorded beside each"),
    ("pytorch", "PyTorch `nn.ConvTranspose{1,2,3}d`",
     "random layers: groups, `output_padding`, dilation, bias, batch; outputs < 1, bad `output_padding`, "
     "groups, empty inputs rejected"),
]


def version_of(header):
    m = re.search(r" with (.*)$", header)
    return re.sub(r" \([^)]*\)", "", m.group(1)) if m else "?"


def table():
    rows = ["| framework | versions | what the cases cover | computed | rejected |", "|---|---|---|---|---|"]
    for stem, name, covers in FILES:
        with open(os.path.join(HERE, stem + ".cases")) as f:
            lines = f.read().splitlines()
        cases = [l for l in lines if l.startswith("case=")]
        rejected = sum(1 for l in cases if " error=" in l)
        rows.append(f"| {name} | {version_of(lines[0])} | {covers} | {len(cases) - rejected} | {rejected} |")
    return "\n".join(rows) + "\n"


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        path = sys.argv[2]
        with open(path) as f:
            text = f.read()
        a, b = text.index(BEGIN) + len(BEGIN), text.index(END)
        new = text[:a] + "\n" + table() + text[b:]
        if new != text:
            with open(path, "w") as f:
                f.write(new)
    else:
        sys.stdout.write(table())


if __name__ == "__main__":
    main()

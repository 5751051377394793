#!/usr/bin/env bash
# Regenerates convt's framework golden vectors (tests/frameworks/*.cases and
# *.npy) with the framework versions pinned in requirements-*.txt, each in
# its own virtual environment under $VENV_ROOT (default build/frameworks-venv,
# ignored by git), and PyTorch from Debian's python3-torch; rewrites README's
# "Verified against" table from them (verified_table.py). Then prints which
# committed files changed: none, when the pinned versions reproduce them.
# CI never runs this; it needs the Python package index.
#   tests/frameworks/regenerate.sh            (PYTHON=python3.11 to pick the interpreter)
#   tests/frameworks/regenerate.sh --check    (exit 1 if any committed file changed)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv_root=${VENV_ROOT:-$root/build/frameworks-venv}
python=${PYTHON:-python3}

venv() {  # venv NAME: creates/updates $venv_root/NAME from requirements-NAME.txt, prints its python
  local dir=$venv_root/$1
  if [ ! -x "$dir/bin/python" ]; then
    "$python" -m venv "$dir" >&2
  fi
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements-$1.txt" >&2
  echo "$dir/bin/python"
}

jax_py=$(venv jax)
tf_py=$(venv tf)
onnx_py=$(venv onnx)

cd "$here"
"$jax_py" generate_jax.py
KERAS_BACKEND=jax "$jax_py" generate_tf.py keras
KERAS_BACKEND=tensorflow TF_ENABLE_ONEDNN_OPTS=1 "$tf_py" generate_tf.py tf
"$onnx_py" generate_onnx.py
/usr/bin/python3 generate_torch.py  # Debian's python3-torch (apt-get install python3-torch)
/usr/bin/python3 verified_table.py --write "$root/README.md"

changed=$(git -C "$root" status --porcelain -- tests/frameworks README.md | grep -E '\.(cases|npy)$|README\.md$' || true)
if [ -z "$changed" ]; then
  echo "regenerate.sh: every committed golden file reproduced byte for byte"
else
  echo "regenerate.sh: these golden files differ from the committed ones:"
  echo "$changed"
  [ "${1:-}" = --check ] && exit 1
fi
exit 0

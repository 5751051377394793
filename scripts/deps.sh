# scripts/deps.sh — sourced by demo.sh and test.sh: installs missing Debian
# packages through apt-get when it can (root, or sudo without a password) and
# otherwise prints the exact command and stops.
convt_ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  local install_line="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  if ! command -v apt-get >/dev/null; then
    echo "convt: missing packages: ${missing[*]} (no apt-get here: install their equivalents)" >&2
    exit 1
  elif [ "$(id -u)" = 0 ]; then
    echo "convt: installing ${missing[*]}"
    sh -c "$install_line"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "convt: installing ${missing[*]} (sudo)"
    sudo sh -c "$install_line"
  else
    echo "convt: missing packages: ${missing[*]}" >&2
    echo "install them with:  sudo sh -c '$install_line'" >&2
    exit 1
  fi
}

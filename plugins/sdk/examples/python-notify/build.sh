#!/usr/bin/env bash
# build.sh packages the plugin as ONE executable file: a Python zip
# application (PEP 441) holding src/ (the plugin and its generated protobuf
# modules) behind a "#!/usr/bin/python3" line. Kassa pins the sha256 of that
# one file at install time, so every line of code it runs is covered.
#
#   ./build.sh [output]        default output: ./notify-pyfile
#
# /usr/bin/python3 is Debian's interpreter, the one python3-grpcio,
# python3-protobuf and python3-cryptography are installed for (a python3
# found first on PATH, e.g. pyenv's, may lack them).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/notify-pyfile}"
/usr/bin/python3 -m zipapp "$here/src" --python /usr/bin/python3 --output "$out"
chmod 0755 "$out"
echo "build.sh: built $out (sha256 $(sha256sum "$out" | cut -d' ' -f1))" >&2

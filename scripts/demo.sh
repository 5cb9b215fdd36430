#!/usr/bin/env bash
# The main job end to end on local stand-ins (see scripts/demo.py). Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec python3 scripts/demo.py

#!/usr/bin/env bash
# The rendered sketch (both TLS variants) against the real arduino-esp32 3.1.3 headers, with
# ../shared/board-check/typecheck.sh. Any error or warning in the sketch (GLUE/CORE) fails.
# Exit 0 clean, 1 the sketch has a diagnostic, 2 set-up problem, 77 skipped (no ../shared).
# Extra arguments go to typecheck.sh (e.g. --sketch DIR to check a rendered folder instead).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${LIFELOG_SHARED_DIR:-$ROOT/../shared}
CHECK="$SHARED/board-check/typecheck.sh"
CORE="$SHARED/arduino-esp32-3.1.3"
if [ ! -f "$CHECK" ] || [ ! -d "$CORE/cores/esp32" ]; then
  echo "board check: SKIPPED, not run: no $CHECK or $CORE (they are not part of this repository)"
  exit 77
fi
# shared/ may be read-only (CI): the work folder lives in the checkout, and keeps the header
# packages setup.sh unpacked (sysroot/) between runs.
WORK=${LIFELOG_BOARD_CHECK_WORK:-$ROOT/.local/board-check}
mkdir -p "$WORK" || exit 2
has_sketch=0
for a in "$@"; do [ "$a" = --sketch ] && has_sketch=1; done
source_args=(--checkout "$ROOT")
[ $has_sketch = 1 ] && source_args=()
bash "$CHECK" --core "$CORE" --work "$WORK" --werror-glue "${source_args[@]}" "$@"

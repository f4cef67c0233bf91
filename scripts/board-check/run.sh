#!/usr/bin/env bash
# The rendered sketch (both TLS variants) against the real arduino-esp32 3.1.3 headers, with
# ../shared/board-check/typecheck.sh. Any error or warning in the sketch (GLUE/CORE) fails.
# Exit 0 clean, 1 the sketch has a diagnostic, 2 set-up problem, 77 skipped (no ../shared).
#   run.sh [--core-mode bundled]   the sketch with the core bundled in its src/ (the default)
#   run.sh --core-mode library     the sketch that includes the installed LifelogCore library
# Other arguments go to typecheck.sh (e.g. --sketch DIR to check a rendered bundled folder).
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
mode=bundled has_sketch=0 pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --core-mode) mode=${2:-}; shift 2 || { echo "--core-mode needs bundled or library" >&2; exit 2; } ;;
    --sketch) has_sketch=1; pass+=("$1" "${2:-}"); shift 2 || shift ;;
    *) pass+=("$1"); shift ;;
  esac
done

if [ "$mode" = bundled ]; then
  source_args=(--checkout "$ROOT")
  [ $has_sketch = 1 ] && source_args=()
  bash "$CHECK" --core "$CORE" --work "$WORK" --werror-glue "${source_args[@]}" "${pass[@]}"
  exit $?
fi
[ "$mode" = library ] || { echo "--core-mode must be bundled or library, not '$mode'" >&2; exit 2; }
[ $has_sketch = 0 ] || { echo "--core-mode library renders its own sketches; --sketch is for the bundled mode" >&2; exit 2; }

# Library mode, as a user builds it: the library zip unpacked among the platform's libraries
# (where arduino-cli would find it once installed), and the sketch rendered with --core library.
TSX="$ROOT/node_modules/.bin/tsx"
[ -x "$TSX" ] || { echo "no $TSX (run bash scripts/setup.sh)" >&2; exit 2; }
LIB_WORK="$WORK/library-mode"
rm -rf "$LIB_WORK" && mkdir -p "$LIB_WORK/lib" || exit 2
(cd "$ROOT" && "$TSX" scripts/firmware/arduino-library.ts "$LIB_WORK/lifelog-core.zip") || exit 2
unzip -q "$LIB_WORK/lifelog-core.zip" -d "$LIB_WORK/lib" || exit 2
LIBRARY=$(ls "$LIB_WORK/lib")
# typecheck.sh discovers libraries only under <core>/libraries: a tree of links to the real one
# with the unpacked library added.
PLATFORM="$LIB_WORK/platform"
mkdir -p "$PLATFORM/libraries" || exit 2
for entry in "$CORE"/*; do [ "$(basename "$entry")" = libraries ] || ln -s "$entry" "$PLATFORM/"; done
for lib in "$CORE"/libraries/*; do ln -s "$lib" "$PLATFORM/libraries/"; done
ln -s "$LIB_WORK/lib/$LIBRARY" "$PLATFORM/libraries/$LIBRARY"

cat >"$LIB_WORK/render.mts" <<'EOF'
import { join } from "node:path";
import { pathToFileURL } from "node:url";
const [checkout, insecure, out] = process.argv.slice(2);
const { renderSketch } = await import(pathToFileURL(join(checkout, "scripts/firmware/render-sketch.ts")).href);
const config = {
  wifi_networks: [{ ssid: "home", password: "correct horse" }, { ssid: "phone", password: "" }],
  api_base_url: "https://abcd.supabase.co/functions/v1",
  pairing_code: "BCDF-GHJK",
  root_ca_pem: "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ/+a\n-----END CERTIFICATE-----\n",
  ...(insecure === "insecure" ? { dev_insecure_tls: true } : {}),
};
console.log((await renderSketch(config, out, { core: "library" })).sketchDir);
EOF

status=0
for variant in ca insecure; do
  out="$LIB_WORK/render-$variant"
  sketch=$(cd "$ROOT" && "$TSX" "$LIB_WORK/render.mts" "$ROOT" "$variant" "$out") || exit 2
  [ ! -e "$sketch/src" ] || { echo "library-mode render has a src/ folder: $sketch" >&2; exit 2; }
  # arduino-cli compiles an installed library's sources with the sketch's flags and include
  # path; typecheck.sh compiles only sketch files, so the checked copy gets the library's .cpp
  # files in src/ (no headers: those come through the library's include path).
  mkdir -p "$sketch/src" && cp "$LIB_WORK/lib/$LIBRARY"/src/*.cpp "$sketch/src/" || exit 2
  echo "== library mode ($variant): $sketch with $LIBRARY from $LIB_WORK/lifelog-core.zip"
  bash "$CHECK" --core "$PLATFORM" --work "$WORK" --werror-glue --sketch "$sketch" "${pass[@]}" | tee "$LIB_WORK/typecheck-$variant.txt"
  rc=${PIPESTATUS[0]}
  grep -qE "^libraries \(discovery order\):.* $LIBRARY( |$)" "$LIB_WORK/typecheck-$variant.txt" \
    || { echo "library mode ($variant): $LIBRARY was not found through its header" >&2; exit 2; }
  # The library's headers sit outside the sketch, so typecheck.sh calls them third-party.
  lib_err=$(grep -cE "^HEADER  libraries/$LIBRARY/[^ ]*: (fatal error|error):" "$LIB_WORK/typecheck-$variant.txt")
  lib_warn=$(grep -cE "^HEADER  libraries/$LIBRARY/[^ ]*: warning:" "$LIB_WORK/typecheck-$variant.txt")
  echo "library mode ($variant): $LIBRARY headers: $lib_err errors, $lib_warn warnings; typecheck exit $rc"
  if [ "$rc" = 1 ] || [ $((lib_err + lib_warn)) -gt 0 ]; then
    status=1
  elif [ "$rc" != 0 ]; then
    [ $status = 0 ] && status=$rc
  fi
done
exit $status

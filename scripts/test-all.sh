#!/usr/bin/env bash
# Every test: the firmware core on the host (g++), then the TypeScript suites (vitest),
# which start their own local stack. Ends with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0 failed=0 skipped=0 status=0

echo "== type checks (tsc, deno check)"
if npm run -s typecheck; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); status=1
fi

if [ -f firmware-config/Makefile ]; then
  echo "== firmware core (g++)"
  fw_out=$(mktemp)
  make -C firmware-config test 2>&1 | tee "$fw_out"
  fw_status=${PIPESTATUS[0]}
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$fw_out" | tail -n 1)
  if [ -n "$line" ]; then
    passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
  fi
  [ "$fw_status" -eq 0 ] || { status=1; [ -n "$line" ] || failed=$((failed + 1)); }
  rm -f "$fw_out"
fi

# vitest [files…]: runs and adds its counts to the totals.
vitest_counted() {
  local report
  report=$(mktemp)
  npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
  [ $? -eq 0 ] || status=1
  if [ -s "$report" ]; then
    read -r vp vf < <(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(r.numPassedTests, r.numFailedTests)' "$report")
    passed=$((passed + vp)); failed=$((failed + vf))
  else
    failed=$((failed + 1))
  fi
  rm -f "$report"
}

for core_mode in bundled library; do
  echo "== board check, core $core_mode (the rendered sketch against the real arduino-esp32 3.1.3 headers)"
  bash scripts/board-check/run.sh --core-mode $core_mode
  case $? in
    0) passed=$((passed + 1)) ;;
    77) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1)); status=1 ;;
  esac
done

echo "== card benchmark (sector reads on the FAT model; figures, not a pass/fail test)"
make -s -C firmware-config bench-card || status=1

echo "== TypeScript (vitest)"
vitest_counted

# The curl walkthrough and the refusals again, with the function running from exactly the
# files `supabase functions deploy` ships (tests/deploy), under node_modules' Deno and
# under the Deno the hosted Edge Runtime embeds.
for deno_version in "" edge-runtime; do
  echo "== the deployed function (Deno ${deno_version:-from node_modules})"
  LIFELOG_FUNCTION_SOURCE=deployed LIFELOG_DENO_VERSION="$deno_version" \
    vitest_counted tests/api/walkthrough.test.ts tests/api/refusals.test.ts
done

echo "tests: $passed passed, $failed failed$([ $skipped -gt 0 ] && echo ", $skipped skipped (board check: no ../shared)")"
[ "$failed" -eq 0 ] || status=1
exit $status

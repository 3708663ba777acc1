#!/bin/sh
# The timeline page in a real browser (ctest tool.trace_view_browser): a traced program (thread
# pool, process pool, event loop) -> `pyconc trace view` -> Debian's chromium --headless. The DOM
# must say every lane was drawn and no script error happened; a synthetic trace of 100,000
# events must render too. The screenshot is kept: <build>/trace_screenshot.png.
#   trace_browser_test.sh PYCONC_TOOL TRACE_SAMPLE WORK_DIR SCREENSHOT
# Exit 77 (ctest SKIP_RETURN_CODE) when chromium is not installed.
set -eu
tool=$1 sample=$2 dir=$3 shot=$4
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "chromium is not installed (scripts/deps.sh test): skipped"
  exit 77
fi
rm -rf "$dir"
mkdir -p "$dir"

fail() { echo "FAIL: $*"; exit 1; }

# Loads the page; prints its DOM. A profile of its own: runs in parallel do not share a lock.
dom() {
  timeout 90 "$browser" --headless=new --no-sandbox --disable-gpu --user-data-dir="$dir/profile" \
    --virtual-time-budget=5000 --dump-dom "file://$1" 2>"$dir/chromium.log"
}
attr() { sed -n "s/.*<body[^>]*$1=\"\([0-9.]*\)\".*/\1/p" | head -n 1; }

env -u PYCONC_TRACE_ROOT PYCONC_TRACE="$dir/trace.json" timeout 60 "$sample" fork >/dev/null ||
  fail "the traced sample failed"
out=$(timeout 60 "$tool" trace view "$dir/trace.json" -o "$dir/trace.html") || fail "trace view: $out"
echo "$out"
want=$(echo "$out" | sed -n 's/.* events, \([0-9]*\) lanes).*/\1/p')
[ -n "$want" ] && [ "$want" -ge 5 ] || fail "expected at least 5 lanes, the tool said: $out"

page=$(dom "$dir/trace.html") || fail "chromium could not load the page (see $dir/chromium.log)"
lanes=$(echo "$page" | attr data-lanes-rendered)
errors=$(echo "$page" | attr data-console-errors)
[ "$lanes" = "$want" ] || fail "lanes rendered: '$lanes', expected $want"
[ "$errors" = "0" ] || fail "the page's script reported errors: $(echo "$page" | sed -n '/tl-errors/,/<\/pre>/p')"
echo "$page" | grep -q '<pre id="tl-errors" hidden="">\s*</pre>' || fail "console errors listed"
echo "$page" | grep -q 'Queue wait' || fail "no queue-wait summary"
timeout 90 "$browser" --headless=new --no-sandbox --disable-gpu --user-data-dir="$dir/profile" \
  --virtual-time-budget=5000 --window-size=1400,900 --screenshot="$shot" "file://$dir/trace.html" \
  2>>"$dir/chromium.log" >/dev/null || fail "no screenshot"
[ "$(wc -c <"$shot")" -gt 10000 ] || fail "the screenshot is empty"
echo "screenshot: $shot"

# 100,000 events in 8 lanes: the page must still draw them, without an error.
awk 'BEGIN {
  printf "{\"traceEvents\":[\n";
  for (i = 0; i < 100000; i++) {
    printf "%s{\"name\":\"task %d\",\"cat\":\"bulk\",\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%d.5,\"dur\":7.25,\"args\":{\"queued_ns\":%d}}\n",
      (i ? "," : ""), i, 1 + i % 8, int(i / 8) * 10, i % 977;
  }
  printf "]}\n";
}' >"$dir/big.json"
timeout 60 "$tool" trace view "$dir/big.json" -o "$dir/big.html" >/dev/null || fail "trace view big.json"
page=$(dom "$dir/big.html") || fail "chromium could not load the 100k-event page"
lanes=$(echo "$page" | attr data-lanes-rendered)
errors=$(echo "$page" | attr data-console-errors)
[ "$lanes" = "8" ] || fail "100k events: lanes rendered '$lanes', expected 8"
[ "$errors" = "0" ] || fail "100k events: script errors"
ms=$(echo "$page" | sed -n 's/.*data-draw-ms="\([0-9.]*\)".*/\1/p' | head -n 1)
echo "100,000 events: 8 lanes drawn in ${ms} ms"
echo "OK"

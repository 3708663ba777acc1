#!/usr/bin/env bash
# `pyconc crawl` stopped by a signal mid-crawl ends gracefully: exit 130 (SIGINT) or 143
# (SIGTERM), the summary says so, and --out holds every page placed before the signal, each a
# complete JSON line. Usage: crawl_interrupt_test.sh PYCONC SIGNAL WORKDIR
set -euo pipefail
tool=$1 sig=$2 work=$3
mkdir -p "$work"
out="$work/interrupted_$sig.jsonl"
log="$work/interrupted_$sig.log"
rm -f "$out" "$log"
set -m  # job control: the background crawl keeps SIGINT's default disposition
# 20 ms per request: the demo site's 1,053 pages take ~1.5 s at 32 in flight; the signal comes
# once 20 lines are on disk (a bounded poll of the file, up to 30 s).
"$tool" crawl --delay 20 --out "$out" --progress never > "$log" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
  if [ -f "$out" ] && [ "$(wc -l < "$out")" -ge 20 ]; then break; fi
  sleep 0.01
done
kill "-$sig" "$pid"
rc=0
wait "$pid" || rc=$?
want=130
[ "$sig" = TERM ] && want=143
if [ "$rc" != "$want" ]; then
  echo "exit status $rc, expected $want"; cat "$log"; exit 1
fi
grep -q "stopped      by SIG$sig" "$log" || { echo "no 'stopped by SIG$sig' line"; cat "$log"; exit 1; }
lines=$(wc -l < "$out")
placed=$(sed -n 's/.*stopped      by SIG[A-Z]*: the \([0-9,]*\) pages.*/\1/p' "$log" | tr -d ,)
[ "$lines" -ge 20 ] || { echo "only $lines lines"; exit 1; }
[ "$lines" = "$placed" ] || { echo "$lines lines on disk, $placed placed"; cat "$log"; exit 1; }
[ "$lines" -lt 1053 ] || { echo "the crawl finished before the signal: not a test"; exit 1; }
# Every line is a whole JSON object.
if ! grep -qv '^{"url":.*}$' "$out"; then :; else echo "a line is not a JSON object"; exit 1; fi
echo "SIG$sig: exit $rc, $lines pages kept"

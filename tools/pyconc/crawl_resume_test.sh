#!/usr/bin/env bash
# `pyconc crawl --state DIR`: a crawl of the embedded demo site interrupted again and again --
# SIGINT, SIGTERM or SIGKILL, after a random number of records -- and resumed each time with
# the same command, ends with an --out file equal to an uninterrupted crawl's: every page once,
# in the same order, with the same content. A graceful stop (INT/TERM) loses nothing: the next
# run starts from every page the stopped one wrote. A SIGKILL loses at most the uncommitted
# batch, which the next run fetches again and the state cuts from --out.
# Usage: crawl_resume_test.sh PYCONC WORKDIR [SEED]   (the seed is printed; pass it to replay)
set -euo pipefail
tool=$1 work=$2
seed=${3:-$(( $(date +%s) % 32768 ))}
echo "seed $seed"
RANDOM=$seed
mkdir -p "$work"
ref="$work/reference.jsonl"
# URLs carry the port of the demo site, which differs between the reference and the state's.
origin() { sed -E 's#http://127\.0\.0\.1:[0-9]+#ORIGIN#g' "$1"; }

timeout 120 "$tool" crawl --delay 0 --out "$ref" --progress never > "$work/reference.log" 2>&1 ||
  { echo "the reference crawl failed"; cat "$work/reference.log"; exit 1; }
[ "$(wc -l < "$ref")" = 1053 ] || { echo "reference: $(wc -l < "$ref") lines"; exit 1; }

lines_of() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }
# "state        DIR: X pages from earlier runs, Y this run; ..." -> X
earlier_of() { sed -n 's/.*state  .*: \([0-9,]*\) pages from earlier runs.*/\1/p' "$1" | tr -d ,; }

set -m  # job control: the background crawl keeps SIGINT's default disposition
signals=(INT TERM KILL)
for round in 1 2 3; do
  state="$work/state_$round" out="$work/out_$round.jsonl"
  rm -rf "$state" "$out"
  runs=0 stops="" finished=0 expect_earlier=0 prev_sig=none cut=0
  while [ $finished = 0 ]; do
    runs=$((runs + 1))
    [ $runs -le 60 ] || { echo "round $round: not finished after 60 runs"; exit 1; }
    log="$work/run_${round}_$runs.log"
    before=$(lines_of "$out")
    # 1 to 150 more records, then a signal (the poll is bounded: 30 s).
    want=$((before + 1 + RANDOM % 150))
    sig=${signals[$((RANDOM % 3))]}
    "$tool" crawl --delay 20 --state "$state" --out "$out" --progress never > "$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 3000); do
      [ "$(lines_of "$out")" -ge "$want" ] && break
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.01
    done
    kill "-$sig" "$pid" 2> /dev/null || true
    # A graceful stop must end the process: 30 s at most, then it is a failure.
    for _ in $(seq 1 3000); do
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.01
    done
    if kill -0 "$pid" 2> /dev/null; then
      kill -KILL "$pid"
      echo "round $round run $runs: still running 30 s after SIG$sig"; cat "$log"; exit 1
    fi
    rc=0
    wait "$pid" 2> /dev/null || rc=$?
    earlier=$(earlier_of "$log")
    case $rc in
      0) finished=1 ;;
      130 | 143 | 137) stops="$stops $sig" ;;
      *) echo "round $round run $runs: exit status $rc after SIG$sig"; cat "$log"; exit 1 ;;
    esac
    # What the previous run kept: all of its lines after a graceful stop, at most them after
    # a SIGKILL (its open batch is lost). `earlier` is empty when this run was killed.
    if [ -n "$earlier" ]; then
      if { [ "$prev_sig" = KILL ] && [ "$earlier" -gt "$expect_earlier" ]; } ||
        { [ "$prev_sig" != KILL ] && [ "$earlier" != "$expect_earlier" ]; }; then
        echo "round $round run $runs: resumed from $earlier pages, the previous run (SIG$prev_sig)" \
          "wrote $expect_earlier"
        cat "$log"; exit 1
      fi
      [ "$earlier" -lt "$expect_earlier" ] && cut=$((cut + expect_earlier - earlier))
    fi
    prev_sig=$sig
    [ $rc = 0 ] && prev_sig=none
    expect_earlier=$(lines_of "$out")
  done
  grep -q "check        OK: the demo site's 1,053 pages each fetched once" "$log" ||
    { echo "round $round: the last run's check failed"; cat "$log"; exit 1; }
  if ! diff <(origin "$ref") <(origin "$out") > "$work/diff_$round.txt"; then
    echo "round $round: the resumed crawl's output differs from the reference:"
    head -20 "$work/diff_$round.txt"; exit 1
  fi
  echo "round $round: $runs runs, stopped by$stops; $cut lines cut after SIGKILLs (their" \
    "pages fetched again); 1053 pages, each once, in order"
done

# The last round's state is finished: `--state DIR` alone resumes it (the demo site again, on
# its port), fetches nothing, and checks the whole crawl.
log="$work/finished.log"
timeout 60 "$tool" crawl --state "$state" --out "$out" --progress never > "$log" 2>&1 ||
  { echo "resuming a finished state failed"; cat "$log"; exit 1; }
grep -q "1,053 pages from earlier runs, 0 this run; finished" "$log" ||
  { echo "a finished state fetched again"; cat "$log"; exit 1; }
grep -q "check        OK" "$log" || { echo "no check"; cat "$log"; exit 1; }
diff -q <(origin "$ref") <(origin "$out") > /dev/null || { echo "the finished output changed"; exit 1; }
# Another crawl on the same state is refused with what differs (exit 1, the state untouched).
refused() {
  local why=$1; shift
  rc=0
  timeout 60 "$tool" crawl --state "$state" --progress never "$@" > "$log" 2>&1 || rc=$?
  if [ $rc != 1 ] || ! grep -q "$why" "$log"; then
    echo "crawl --state $* : exit $rc, expected 1 and '$why'"; cat "$log"; exit 1
  fi
}
refused "is a crawl of http://127.0.0.1:[0-9]*/; this crawl starts at http://127.0.0.1:1/" \
  http://127.0.0.1:1/
refused "ran with max_depth = '-1'; this one asks for max_depth = '1'" --max-depth 1
refused "ran with select = 'a.post-item-title'; this one asks for select = 'h1'" --select h1
echo "a finished state resumes to nothing; other crawls on it are refused"

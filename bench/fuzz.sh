#!/usr/bin/env bash
# Fuzz the libFuzzer harnesses (tests/fuzz/fuzz_<name>.c) for as long as asked, one process each
# in turn, keeping the corpus outside the repository so that later runs start where earlier ones
# stopped. Needs a build configured with -DSPIPFIX_FUZZ=ON -DCMAKE_C_COMPILER=clang.
#
#   bench/fuzz.sh [--build DIR] [--seconds N] [--corpus DIR] [--nice N] [HARNESS...]
#
# HARNESS: engine, config, trace_profile, lsp_message (default: all). --seconds is per harness (default 60).
# --corpus (default $SPIPFIX_FUZZ_CORPUS, else ~/.cache/spipfix-fuzz; outside the repository or in a
# folder git ignores, such as a build folder) holds <harness>/ (the
# corpus, seeded on first use: golden/*/*/input.py and small standard-library files for the
# engine, tests/fuzz/regressions/<harness>/ for every harness) and artifacts/<harness>/ (crashes,
# time-outs, out-of-memory inputs). A crash is a failure: copy the input into
# tests/fuzz/regressions/<harness>/ (the replay tests run it in every build) and fix it.
# Prints, per harness: executions, coverage (libFuzzer's cov: edges, ft: features), corpus size
# and the artifacts written. Exit status 1 when any harness crashed.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build-fuzz
seconds=60
corpus=${SPIPFIX_FUZZ_CORPUS:-$HOME/.cache/spipfix-fuzz}
nice_=10
harnesses=()
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    --nice) nice_=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=(engine config trace_profile lsp_message)
# inside the repository only where git ignores it (a build folder): never in a tracked folder
case $corpus in
  "$here"/*)
    if ! git -C "$here" check-ignore -q "$corpus" 2>/dev/null; then
      echo "the corpus must be outside the repository or in a folder git ignores: $corpus" >&2; exit 2
    fi ;;
esac

seed() { # $1 = harness, $2 = corpus folder
  local h=$1 dir=$2
  mkdir -p "$dir"
  [ -n "$(ls -A "$dir" 2>/dev/null)" ] && return 0
  cp "$here/tests/fuzz/regressions/$h"/* "$dir"/ 2>/dev/null
  if [ "$h" = engine ]; then
    local i=0
    for f in "$here"/golden/*/*/input.py; do
      cp "$f" "$dir/golden-$i.py"; i=$((i + 1))
    done
    # small standard-library modules: real code in many shapes
    find /usr/lib/python3.11 -name '*.py' -size -6k -not -path '*/test/*' 2>/dev/null | sort | head -400 |
      while read -r f; do cp "$f" "$dir/stdlib-$(echo "$f" | md5sum | cut -c1-12).py"; done
  fi
}

status=0
for h in "${harnesses[@]}"; do
  bin=$build/fuzz_$h
  [ -x "$bin" ] || { echo "$bin: not built (configure with -DSPIPFIX_FUZZ=ON -DCMAKE_C_COMPILER=clang)" >&2; exit 2; }
  dir=$corpus/$h
  art=$corpus/artifacts/$h
  mkdir -p "$art"
  seed "$h" "$dir"
  extra=()
  [ -f "$here/tests/fuzz/$h.dict" ] && extra+=(-dict="$here/tests/fuzz/$h.dict")
  log=$corpus/$h.log
  before=$(ls "$art" | wc -l)
  start=$(date +%s)
  # ASan: CPython keeps memory until exit (LeakSanitizer only reports at the end, and libFuzzer's
  # per-input leak check is off: the interpreter's caches would look like leaks)
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    nice -n "$nice_" "$bin" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -max_len=16384 \
      -print_final_stats=1 -artifact_prefix="$art/" "${extra[@]}" "$dir" >"$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | awk '{print $2}')
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | awk '{print $2}')
  corp=$(echo "$last" | grep -oE 'corp: [0-9]+/[0-9a-zA-Z]+' | cut -d' ' -f2)
  new=$(( $(ls "$art" | wc -l) - before ))
  echo "fuzz_$h: ${took} s, exit $rc, ${execs:-?} executions, cov ${cov:-?} edges, ft ${ft:-?}, corpus ${corp:-?}, new artifacts $new (log $log)"
  if [ "$rc" != 0 ]; then
    status=1
    grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_|artifact_prefix|Test unit written)' "$log" | head -8
  fi
done
exit $status

#!/usr/bin/env bash
# numpy's own test suite on a copy of numpy rewritten with `spipfix --fix`, against the same run
# on a pristine copy set up the same way. Needs Debian's python3-numpy and python3-pytest (and
# python3-hypothesis and python3-typing-extensions, which some of numpy's tests import; a test
# file that cannot be collected is an error on both sides). Too long for CI.
#
#   bench/validate_numpy.sh [SPIPFIX] [EXTRA spipfix ARGS...]
#
# Environment: WORK (folder, default a new /tmp/spipfix-numpy.XXXXXX), NICE (default 10),
# PYTEST_ARGS (more pytest arguments, e.g. "-k linalg"), HUGE (a -k expression deselecting, on
# both sides, the tests that allocate about 24 GB and are killed when the machine lacks it; ""
# runs them).
#
# Each side is a folder holding a copy of numpy (its compiled extensions and test data
# included, __pycache__ removed) put first on PYTHONPATH; both run
#   python3 -m pytest --pyargs numpy
# from an empty folder, with JUnit XML compared test case by test case (bench/suite_compare.py).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SPIPFIX=${1:-build/spipfix}; shift || true
SPIPFIX=$(readlink -f "$SPIPFIX")
PY=/usr/bin/python3
NICE=${NICE:-10}
PYTEST_ARGS=${PYTEST_ARGS:-}
HUGE=${HUGE-"not (TestHistogram and test_big_arrays) and not (TestSavezLoad and test_big_arrays) and not test_large_zip"}
huge_k=(); [ -n "$HUGE" ] && huge_k=(-k "$HUGE")
src=$("$PY" -c 'import numpy, os; print(os.path.dirname(numpy.__file__))' 2>/dev/null) ||
  { echo "needs Debian's python3-numpy"; exit 2; }
"$PY" -c 'import pytest' 2>/dev/null || { echo "needs Debian's python3-pytest"; exit 2; }
work=${WORK:-$(mktemp -d /tmp/spipfix-numpy.XXXXXX)}
mkdir -p "$work/run"
chmod 755 "$work"
echo "work folder: $work; numpy $("$PY" -c 'import numpy; print(numpy.__version__)') from $src"
for side in pristine fixed; do
  rm -rf "$work/$side"
  mkdir -p "$work/$side"
  cp -a "$src" "$work/$side/numpy"
  find "$work/$side" -name __pycache__ -prune -exec rm -rf {} +
done
lib="$work/fixed/numpy"

echo "== spipfix --fix $* on the copy (its tests included)"
/usr/bin/time -f "wall %e s, peak %M KiB" "$SPIPFIX" --fix --quiet "$@" "$lib" >"$work/fix1.out" 2>"$work/fix1.err"
echo "exit $? ; $(tail -1 "$work/fix1.err")"
diff -rq "$work/pristine/numpy" "$lib" 2>/dev/null | awk '/differ$/ {print $4}' >"$work/changed.txt"
echo "changed files: $(wc -l <"$work/changed.txt")"
diff -ru "$work/pristine/numpy" "$lib" >"$work/fix.diff" 2>/dev/null
echo "the whole rewrite: $work/fix.diff"
fails=0
while read -r f; do
  "$PY" -c "import sys; compile(open(sys.argv[1],'rb').read(), sys.argv[1], 'exec')" "$f" 2>/dev/null || fails=$((fails+1))
done <"$work/changed.txt"
echo "changed files that fail to compile: $fails"
snap="$work/snap"; rm -rf "$snap"; cp -a "$lib" "$snap"
"$SPIPFIX" --fix --quiet "$@" "$lib" >/dev/null 2>&1
echo "files changed by a second --fix: $(diff -rq "$snap" "$lib" 2>/dev/null | grep -c differ)"
rm -rf "$snap"

for side in pristine fixed; do
  echo "== pytest --pyargs numpy on the $side copy"
  start=$(date +%s)
  (cd "$work/run" && env PYTHONPATH="$work/$side" PYTHONDONTWRITEBYTECODE=1 \
     nice -n "$NICE" "$PY" -m pytest --pyargs numpy -q -p no:cacheprovider --continue-on-collection-errors \
       --junitxml="$work/$side.xml" "${huge_k[@]}" $PYTEST_ARGS >"$work/$side.log" 2>&1)
  echo "$side: exit $?, $(( $(date +%s) - start )) s; $(grep -a -E '[0-9]+ passed' "$work/$side.log" | tail -1)"
  echo "$side imports $(cd "$work/run" && PYTHONPATH="$work/$side" "$PY" -c 'import numpy; print(numpy.__file__)')"
done
echo "== every test case, pristine vs fixed (JUnit XML)"
"$PY" "$here/suite_compare.py" "$work/pristine.xml" "$work/fixed.xml" --label-a pristine --label-b fixed
rc=$?
echo "logs in $work"
exit $rc

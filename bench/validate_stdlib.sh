#!/usr/bin/env bash
# CPython's whole test suite on a copy of the standard library rewritten with `spipfix --fix`,
# against the same run on a pristine copy set up the same way. The standard library and the
# interpreter are the target version's: TARGET=py311 (default; Debian's, needs
# libpython3.11-testsuite) or py312 / py313 (pyenv's, which ship their test package). Too long
# for CI (about an hour or more on two cores).
#
#   [TARGET=py312] bench/validate_stdlib.sh [SPIPFIX] [EXTRA spipfix ARGS...]
#
# Environment: WORK (folder to use, default a new /tmp/spipfix-stdlib.XXXXXX), JOBS (regrtest -j,
# default 2), TIMEOUT (seconds per test file, default 900), TESTS (test names, default all),
# HANGS (tests excluded on both sides because they hang on the pristine copy here; default
# test_socket: checked below with a short time-out), NICE (default 10).
#
# Both copies are PYTHONHOME prefixes of the same layout: PREFIX/lib/python3.X (the stdlib with
# its test package and lib-dynload, without __pycache__ and without the stray dist-packages
# folder), PREFIX/include/python3.X (the headers, which test_sysconfig and others look for),
# in a folder readable by everyone (tests drop privileges). The fixed side differs only by the
# rewrite. The runs write JUnit XML; bench/suite_compare.py compares every test case.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SPIPFIX=${1:-build/spipfix}; shift || true
SPIPFIX=$(readlink -f "$SPIPFIX")
TARGET=${TARGET:-py311}
case $TARGET in
  py311) PY=/usr/bin/python3 ;;
  py312) PY=/root/.pyenv/versions/3.12.1/bin/python3.12 ;;
  py313) PY=/root/.pyenv/versions/3.13.0/bin/python3.13 ;;
  *) echo "TARGET must be py311, py312 or py313" >&2; exit 2 ;;
esac
stdlib=$("$PY" -c 'import os; print(os.path.dirname(os.__file__))')
ver=$(basename "$stdlib")
inc=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
JOBS=${JOBS:-2}
TIMEOUT=${TIMEOUT:-900}
TESTS=${TESTS:-}
HANGS=${HANGS-test_socket}
NICE=${NICE:-10}
[ -d "$stdlib/test" ] || { echo "needs the test package of $stdlib (Debian: libpython3.11-testsuite)"; exit 2; }
work=${WORK:-$(mktemp -d /tmp/spipfix-stdlib.XXXXXX)}
mkdir -p "$work"
chmod 755 "$work"
echo "work folder: $work"

make_prefix() { # $1 = prefix
  local p=$1
  rm -rf "$p"
  mkdir -p "$p/lib" "$p/include"
  cp -a "$stdlib" "$p/lib/$ver"
  rm -rf "$p/lib/$ver/dist-packages" "$p/lib/$ver/site-packages"
  find "$p/lib/$ver" -name __pycache__ -prune -exec rm -rf {} +
  cp -a "$inc" "$p/include/$ver"
  chmod -R a+rX "$p"
}
mkdir -p "$work/home"
make_prefix "$work/pristine"
make_prefix "$work/fixed"
lib="$work/fixed/lib/$ver"
orig="$work/pristine/lib/$ver"

echo "== spipfix --fix $* on the copy (test code is analysed only with --include-tests)"
/usr/bin/time -f "wall %e s, peak %M KiB" "$SPIPFIX" --fix --quiet --target-version "$TARGET" --no-respect-gitignore "$@" "$lib" >"$work/fix1.out" 2>"$work/fix1.err"
echo "exit $? ; $(tail -1 "$work/fix1.err")"
diff -rq "$orig" "$lib" 2>/dev/null | awk '/differ$/ {print $4}' >"$work/changed.txt"
echo "changed files: $(wc -l <"$work/changed.txt")"
diff -ru "$orig" "$lib" >"$work/fix.diff" 2>/dev/null
echo "the whole rewrite: $work/fix.diff"

echo "== compile every changed file with $PY"
fails=0
while read -r f; do
  "$PY" -c "import sys; compile(open(sys.argv[1],'rb').read(), sys.argv[1], 'exec')" "$f" || fails=$((fails+1))
done <"$work/changed.txt"
echo "changed files that fail to compile: $fails"

echo "== a second --fix changes nothing"
snap="$work/snap"; rm -rf "$snap"; cp -a "$lib" "$snap"
"$SPIPFIX" --fix --quiet --target-version "$TARGET" --no-respect-gitignore "$@" "$lib" >/dev/null 2>&1
echo "files changed by the second --fix: $(diff -rq "$snap" "$lib" 2>/dev/null | grep -c differ)"
rm -rf "$snap"

regrtest() { # $1 = side, $2 = junit file, rest = regrtest arguments
  local side=$1 xml=$2; shift 2
  (cd "$work" && env -i PATH=/usr/bin:/bin HOME="$work/home" LANG=C.UTF-8 PYTHONHOME="$work/$side" \
     nice -n "$NICE" "$PY" -m test --junit-xml "$xml" "$@")
}


# The test files regrtest reports as failed, crashed or timed out in a log, one a line, sorted.
failed_tests() {
  "$PY" - "$1" <<'EOF'
import re, sys
text = open(sys.argv[1], errors="replace").read()
names = set()
for m in re.finditer(r"^(\d+) tests? (failed|timed out|crashed|failed again)[^:\n]*:\n((?:    .*\n)+)", text, re.M):
    names.update(m.group(3).split())
for m in re.finditer(r"^\d+:\d+:\d+ .*?\[.*?\] (test\S+) (?:failed|crashed|timed out)", text, re.M):
    names.add(m.group(1))
if names:
    print("\n".join(sorted(names)))
EOF
}
hang_x=()
for t in $HANGS; do
  echo "== $t on the pristine copy, 300 s time-out (excluded from both runs if it does not finish)"
  start=$(date +%s)
  regrtest pristine "$work/hang-$t.xml" -j1 --timeout 300 "$t" >"$work/hang-$t.log" 2>&1
  hrc=$?
  echo "$t: exit $hrc, $(( $(date +%s) - start )) s: $(grep -E '^(== Tests result|.*[Tt]imeout)' "$work/hang-$t.log" | head -2 | tr '\n' ' ')"
  [ "$hrc" = 0 ] || hang_x+=("$t")
done

sel=(); [ -n "$TESTS" ] && sel=($TESTS)
xargs_=(); [ "${#hang_x[@]}" -gt 0 ] && xargs_=(-x "${hang_x[@]}")
[ -n "$TESTS" ] && xargs_=()
echo "== regrtest -j$JOBS --timeout $TIMEOUT on the pristine copy ${sel[*]:-(all)}${hang_x:+, excluding ${hang_x[*]}}"
start=$(date +%s)
regrtest pristine "$work/pristine.xml" -j"$JOBS" --timeout "$TIMEOUT" "${xargs_[@]}" "${sel[@]}" >"$work/pristine.log" 2>&1
echo "pristine: exit $?, $(( $(date +%s) - start )) s; $(grep -E '^== Tests result' "$work/pristine.log")"
# the test files that fail or time out on the pristine copy here: excluded from the comparison
failed_tests "$work/pristine.log" >"$work/pristine-failed.txt"
echo "fail or time out on the pristine copy ($(wc -l <"$work/pristine-failed.txt")): $(tr '\n' ' ' <"$work/pristine-failed.txt")"

echo "== regrtest -j$JOBS --timeout $TIMEOUT on the fixed copy, the same selection"
start=$(date +%s)
regrtest fixed "$work/fixed.xml" -j"$JOBS" --timeout "$TIMEOUT" "${xargs_[@]}" "${sel[@]}" >"$work/fixed.log" 2>&1
echo "fixed: exit $?, $(( $(date +%s) - start )) s; $(grep -E '^== Tests result' "$work/fixed.log")"
failed_tests "$work/fixed.log" >"$work/fixed-failed.txt"
echo "fail or time out on the fixed copy ($(wc -l <"$work/fixed-failed.txt")): $(tr '\n' ' ' <"$work/fixed-failed.txt")"
echo "== test files failing on the fixed copy only: $(comm -13 "$work/pristine-failed.txt" "$work/fixed-failed.txt" | tr '\n' ' ')"
echo "== test files failing on the pristine copy only: $(comm -23 "$work/pristine-failed.txt" "$work/fixed-failed.txt" | tr '\n' ' ')"
for side in pristine fixed; do
  echo "$side: $(grep -E '^(Total duration|Tests result|[0-9]+ tests? (OK|failed|skipped))' "$work/$side.log" | tr '\n' ';')"
done
echo "== every test case, pristine vs fixed (JUnit XML)"
"$PY" "$here/suite_compare.py" "$work/pristine.xml" "$work/fixed.xml" --label-a pristine --label-b fixed
rc=$?
echo "check: the fixed side imports the copy: $(PYTHONHOME="$work/fixed" "$PY" -c 'import functools; print(functools.__file__)')"
echo "logs in $work"
exit $rc

#!/usr/bin/env bash
# Rewrite a copy of the standard library with `spipfix --fix` and check that it still compiles,
# that a second --fix changes nothing, and that a chosen set of the stdlib's own tests gives the
# same results on the copy as on the original. Needs Debian's libpython3.11-testsuite.
#   bench/validate_stdlib.sh [SPIPFIX] [EXTRA spipfix ARGS...]
set -uo pipefail
SPIPFIX=${1:-build/spipfix}; shift || true
SPIPFIX=$(readlink -f "$SPIPFIX")
PY=/usr/bin/python3
TESTS=${TESTS:-"test_functools test_re test_json test_argparse test_typing test_inspect test_dataclasses test_collections test_enum"}
work=$(mktemp -d /tmp/spipfix-stdlib.XXXXXX)
mkdir -p "$work/prefix/lib"
cp -a /usr/lib/python3.11 "$work/prefix/lib/python3.11"
lib="$work/prefix/lib/python3.11"
find "$lib" -name __pycache__ -prune -exec rm -rf {} +

echo "== spipfix --fix on a copy of /usr/lib/python3.11 $*"
/usr/bin/time -f "wall %e s, peak %M KiB" "$SPIPFIX" --fix --quiet "$@" "$lib" >"$work/fix1.out" 2>"$work/fix1.err"
echo "exit $? ; $(tail -1 "$work/fix1.err")"
echo "changed files: $(diff -rq /usr/lib/python3.11 "$lib" 2>/dev/null | grep -c differ)"

echo "== compile every changed file"
diff -rq /usr/lib/python3.11 "$lib" 2>/dev/null | awk '/differ$/ {print $4}' >"$work/changed.txt"
fails=0
while read -r f; do
  "$PY" -c "import sys; compile(open(sys.argv[1],'rb').read(), sys.argv[1], 'exec')" "$f" || fails=$((fails+1))
done <"$work/changed.txt"
echo "changed files that fail to compile: $fails"

echo "== second --fix"
snap="$work/snap"; cp -a "$lib" "$snap"
"$SPIPFIX" --fix --quiet "$@" "$lib" >/dev/null 2>&1
echo "files changed by the second --fix: $(diff -rq "$snap" "$lib" 2>/dev/null | grep -c differ)"
rm -rf "$snap"

echo "== stdlib tests: original vs rewritten ($TESTS)"
run_tests() { # $1 = label, rest = env
  local label=$1; shift
  env "$@" "$PY" -m test -j2 $TESTS >"$work/tests-$label.log" 2>&1
  echo "$label: exit $? ; $(grep -E '^(Tests result|Total tests):' "$work/tests-$label.log" | tr '\n' ' ')"
}
run_tests original PYTHONDONTWRITEBYTECODE=1
run_tests rewritten PYTHONHOME="$work/prefix" PYTHONDONTWRITEBYTECODE=1
echo "check: rewritten interpreter uses the copy: $(PYTHONHOME="$work/prefix" "$PY" -c 'import functools; print(functools.__file__)')"
echo "logs in $work"

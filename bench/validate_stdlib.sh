#!/usr/bin/env bash
# Rewrite a copy of the standard library with `spipfix --fix` and check that it still compiles,
# that a second --fix changes nothing, and that a chosen set of the stdlib's own tests gives the
# same results on the copy as on the original. The standard library and the interpreter are the
# target version's: TARGET=py311 (default; Debian's, needs libpython3.11-testsuite) or py312 /
# py313 (pyenv's, which ships its test modules); PY names another interpreter.
#   [TARGET=py312] bench/validate_stdlib.sh [SPIPFIX] [EXTRA spipfix ARGS...]
set -uo pipefail
SPIPFIX=${1:-build/spipfix}; shift || true
SPIPFIX=$(readlink -f "$SPIPFIX")
TARGET=${TARGET:-py311}
case $TARGET in
  py311) PY=${PY:-/usr/bin/python3} ;;
  py312) PY=${PY:-/root/.pyenv/versions/3.12.1/bin/python3.12} ;;
  py313) PY=${PY:-/root/.pyenv/versions/3.13.0/bin/python3.13} ;;
  *) echo "TARGET must be py311, py312 or py313" >&2; exit 2 ;;
esac
TESTS=${TESTS:-"test_functools test_re test_json test_argparse test_typing test_inspect test_dataclasses test_collections test_enum"}
stdlib=$("$PY" -c 'import os; print(os.path.dirname(os.__file__))')
ver=$(basename "$stdlib")
work=$(mktemp -d /tmp/spipfix-stdlib.XXXXXX)
mkdir -p "$work/prefix/lib"
cp -a "$stdlib" "$work/prefix/lib/$ver"
lib="$work/prefix/lib/$ver"
find "$lib" -name __pycache__ -prune -exec rm -rf {} +

echo "== spipfix --fix --target-version $TARGET on a copy of $stdlib $*"
/usr/bin/time -f "wall %e s, peak %M KiB" "$SPIPFIX" --fix --quiet --target-version "$TARGET" --no-respect-gitignore "$@" "$lib" >"$work/fix1.out" 2>"$work/fix1.err"
echo "exit $? ; $(tail -1 "$work/fix1.err")"
echo "changed files: $(diff -rq "$stdlib" "$lib" 2>/dev/null | grep -c differ)"

echo "== compile every changed file"
diff -rq "$stdlib" "$lib" 2>/dev/null | awk '/differ$/ {print $4}' >"$work/changed.txt"
fails=0
while read -r f; do
  "$PY" -c "import sys; compile(open(sys.argv[1],'rb').read(), sys.argv[1], 'exec')" "$f" || fails=$((fails+1))
done <"$work/changed.txt"
echo "changed files that fail to compile: $fails"

echo "== second --fix"
snap="$work/snap"; cp -a "$lib" "$snap"
"$SPIPFIX" --fix --quiet --target-version "$TARGET" --no-respect-gitignore "$@" "$lib" >/dev/null 2>&1
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

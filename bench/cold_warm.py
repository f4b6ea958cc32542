"""spipfix --diff over a tree, cold (empty cache) and warm (second run, cache full), beside
Debian's python3 doing ast.parse of the same files and Debian's pyupgrade --py311-plus on a copy,
measured side by side in one run: wall time and peak memory of each, rounds alternating, medians
and ratios printed (the machine may be shared and noisy: read the ratios).

    /usr/bin/python3 bench/cold_warm.py [--spipfix build/spipfix] [--before OLD/spipfix] [--rounds 3]
                                        [--include-tests] [TREE]

--before times another build beside it (its cold and warm runs, in the same rounds);
--include-tests passes --include-tests to spipfix (test code analysed too; by default spipfix
neither parses nor compiles it).

Goal: cold no slower than the ast.parse baseline; warm at least 10x faster than cold. Also
timed: `compile()` of the same files in one process, the part of a cold run spipfix cannot skip.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# spipfix's default exclusions (Ruff's list plus .spipfix_cache): the same files on both sides
SKIP = {".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache", ".nox",
        ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".spipfix_cache", ".svn", ".tox", ".venv",
        ".vscode", "__pycache__", "__pypackages__", "_build", "buck-out", "build", "dist", "node_modules",
        "site-packages", "venv"}

AST_SCRIPT = r"""
import ast, sys
n = 0
for path in sys.stdin.read().split("\0"):
    if not path:
        continue
    try:
        with open(path, "rb") as f:
            ast.parse(f.read(), path)
        n += 1
    except (SyntaxError, ValueError):
        pass
print(n)
"""

# What spipfix cannot do without: CPython's compile of every file, the bytecode each finding is
# proven on (one compile per file; a rewritten file is compiled again, as its safety net).
COMPILE_SCRIPT = AST_SCRIPT.replace("ast.parse(f.read(), path)", "compile(f.read(), path, 'exec', dont_inherit=True)")


def files_of(tree):
    out = []
    for d, dirs, files in os.walk(tree):
        dirs[:] = sorted(x for x in dirs if x not in SKIP and not os.path.exists(os.path.join(d, x, "pyvenv.cfg")))
        out += [os.path.join(d, f) for f in sorted(files) if f.endswith(".py")]
    return out


def measure(cmd, stdin=None, cwd=None):
    """Run cmd under /usr/bin/time; return (wall seconds, peak RSS KiB, exit status)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], input=stdin, capture_output=True, cwd=cwd)
    wall = time.perf_counter() - t0
    peak = int(p.stderr.decode().strip().splitlines()[-1])
    return wall, peak, p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", default="build/spipfix")
    ap.add_argument("--before", default="", help="another spipfix build, timed beside")
    ap.add_argument("--include-tests", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pyupgrade", default=shutil.which("pyupgrade", path="/usr/bin:/bin") or "")
    ap.add_argument("tree", nargs="?", default="/usr/lib/python3.11")
    a = ap.parse_args()
    spipfix = os.path.abspath(a.spipfix)
    files = files_of(a.tree)
    listing = "\0".join(files).encode()
    print(f"tree: {a.tree} ({len(files)} .py files, {sum(os.path.getsize(f) for f in files) / 1e6:.1f} MB), "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    if not a.pyupgrade:
        print("pyupgrade not found (Debian: apt-get install pyupgrade); its column is left out")
    names = ["spipfix cold", "spipfix warm"] + (["before cold", "before warm"] if a.before else []) + \
        ["ast.parse", "compile", "pyupgrade"]
    runs = {k: [] for k in names}
    extra = ["--include-tests"] if a.include_tests else []
    print(f"spipfix {' '.join(extra) or '(defaults: test code skipped)'}"
          + (f"; before: {a.before}" if a.before else ""))
    with tempfile.TemporaryDirectory() as work:
        for r in range(a.rounds):
            for label, exe in [("spipfix", spipfix)] + ([("before", os.path.abspath(a.before))] if a.before else []):
                cache = os.path.join(work, f"cache{r}{label}")
                cmd = [exe, "--diff", "--quiet", *extra, "--cache-dir", cache, os.path.abspath(a.tree)]
                runs[f"{label} cold"].append(measure(cmd, cwd=work))
                runs[f"{label} warm"].append(measure(cmd, cwd=work))
                shutil.rmtree(cache, ignore_errors=True)
            runs["ast.parse"].append(measure(["/usr/bin/python3", "-I", "-c", AST_SCRIPT], stdin=listing))
            runs["compile"].append(measure(["/usr/bin/python3", "-I", "-W", "ignore", "-c", COMPILE_SCRIPT],
                                           stdin=listing))
            if a.pyupgrade:
                copy = os.path.join(work, f"copy{r}")
                shutil.copytree(a.tree, copy, symlinks=True, ignore=shutil.ignore_patterns(*SKIP))
                copied = files_of(copy)
                runs["pyupgrade"].append(measure([a.pyupgrade, "--py311-plus", *copied]))
                shutil.rmtree(copy)
            print(f"round {r + 1}: " + " | ".join(f"{k} {v[-1][0]:.2f} s {v[-1][1] / 1024:.0f} MiB"
                                                  for k, v in runs.items() if v))
    med = {k: statistics.median(x[0] for x in v) for k, v in runs.items() if v}
    peak = {k: max(x[1] for x in v) for k, v in runs.items() if v}
    print("median wall: " + ", ".join(f"{k} {v:.2f} s" for k, v in med.items()))
    print("peak memory (largest single process): " + ", ".join(f"{k} {v / 1024:.0f} MiB" for k, v in peak.items()))
    print(f"cold / ast.parse: {med['spipfix cold'] / med['ast.parse']:.2f}x (goal <= 1.00)")
    print(f"cold / warm:      {med['spipfix cold'] / med['spipfix warm']:.1f}x (goal >= 10)")
    if a.before:
        print(f"before cold / ast.parse: {med['before cold'] / med['ast.parse']:.2f}x; "
              f"cold / before cold: {med['spipfix cold'] / med['before cold']:.2f}x")
    print(f"compile / ast.parse: {med['compile'] / med['ast.parse']:.2f}x (one process: the CPython compile "
          f"every finding is proven on, alone)")
    if "pyupgrade" in med:
        print(f"cold / pyupgrade: {med['spipfix cold'] / med['pyupgrade']:.2f}x")
    print(f"exit status of spipfix --diff: cold {runs['spipfix cold'][-1][2]}, warm {runs['spipfix warm'][-1][2]} "
          "(1: a diff, 2: some files could not be analysed)")


if __name__ == "__main__":
    sys.exit(main())

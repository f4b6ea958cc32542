"""Wall time and peak memory of `spipfix --diff TREE` beside Debian's python3 running
ast.parse over the same files, measured side by side in one run (rounds alternate, medians
reported, the ratio is what to read: this machine is shared and noisy).

    /usr/bin/python3 bench/diff_vs_ast.py [--spipfix build/spipfix] [--rounds 3] [TREE]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
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


def files_of(tree):
    out = []
    for d, dirs, files in os.walk(tree):
        dirs[:] = sorted(x for x in dirs if x not in SKIP and not os.path.exists(os.path.join(d, x, "pyvenv.cfg")))
        out += [os.path.join(d, f) for f in sorted(files) if f.endswith(".py")]
    return out


def measure(cmd, stdin=None):
    """Run cmd under /usr/bin/time; return (wall seconds, peak RSS KiB)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], input=stdin, capture_output=True)
    wall = time.perf_counter() - t0
    peak = int(p.stderr.decode().strip().splitlines()[-1])
    return wall, peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", default="build/spipfix")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("tree", nargs="?", default="/usr/lib/python3.11")
    a = ap.parse_args()
    files = files_of(a.tree)
    listing = "\0".join(files).encode()
    print(f"tree: {a.tree} ({len(files)} .py files, {sum(os.path.getsize(f) for f in files) / 1e6:.1f} MB)")
    sp, ast_ = [], []
    for r in range(a.rounds):
        sp.append(measure([a.spipfix, "--diff", "--quiet", a.tree]))
        ast_.append(measure(["/usr/bin/python3", "-I", "-c", AST_SCRIPT], stdin=listing))
        print(f"round {r + 1}: spipfix {sp[-1][0]:.2f} s {sp[-1][1] / 1024:.0f} MiB | "
              f"ast.parse {ast_[-1][0]:.2f} s {ast_[-1][1] / 1024:.0f} MiB")
    ws, wa = statistics.median(x[0] for x in sp), statistics.median(x[0] for x in ast_)
    ms, ma = max(x[1] for x in sp), max(x[1] for x in ast_)
    print(f"median wall: spipfix --diff {ws:.2f} s, python3 ast.parse {wa:.2f} s, ratio {ws / wa:.2f}x "
          f"(spread spipfix {min(x[0] for x in sp):.2f}-{max(x[0] for x in sp):.2f} s, "
          f"ast {min(x[0] for x in ast_):.2f}-{max(x[0] for x in ast_):.2f} s)")
    print(f"peak memory: spipfix {ms / 1024:.0f} MiB, ast.parse {ma / 1024:.0f} MiB, ratio {ms / ma:.2f}x")


if __name__ == "__main__":
    sys.exit(main())

"""spipfix --fix against the project's formatters on a real tree: copies TREE to a temporary
folder, notes which files black and isort (profile black) accept, runs spipfix --fix on the
copy (with the copy's own configuration: black's line length from its pyproject.toml), and
prints how many files spipfix changed and, of those that were clean before, how many black or
isort would now change (the goal is 0), with the formatters' diffs for those.

    /usr/bin/python3 bench/formatters.py [--spipfix build/spipfix] [--line-length N] TREE [-- SPIPFIX ARGS]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


def pyfiles(root):
    out = []
    for d, dirs, fs in os.walk(root):
        dirs[:] = [x for x in dirs if x not in {".git", "__pycache__", "build", "dist", ".tox", ".venv"}]
        out += [os.path.join(d, f) for f in fs if f.endswith(".py")]
    return sorted(out)


def unclean(paths, ll):
    b = subprocess.run(["/usr/bin/black", "--check", "-l", str(ll), *paths], capture_output=True, text=True)
    i = subprocess.run(["/usr/bin/isort", "--profile", "black", "-l", str(ll), "--check-only", *paths],
                       capture_output=True, text=True)
    return (set(re.findall(r"^would reformat (.+)$", b.stderr, re.M)),
            set(re.findall(r"^ERROR: (.+?) Imports are incorrectly sorted", i.stdout + i.stderr, re.M)))


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        k = argv.index("--")
        argv, extra = argv[:k], argv[k + 1:]
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", default="build/spipfix")
    ap.add_argument("--line-length", type=int, default=88)
    ap.add_argument("tree")
    a = ap.parse_args(argv)
    spipfix = os.path.abspath(a.spipfix)
    with tempfile.TemporaryDirectory(prefix="formatters-") as tmp:
        copy = os.path.join(tmp, os.path.basename(os.path.abspath(a.tree)))
        shutil.copytree(a.tree, copy, ignore=shutil.ignore_patterns(".git", "__pycache__"))
        files = pyfiles(copy)
        before = {f: open(f, "rb").read() for f in files}
        b0, i0 = unclean(files, a.line_length)
        t = time.time()
        p = subprocess.run([spipfix, "--fix", "--no-cache", *extra, copy], capture_output=True, text=True)
        took = time.time() - t
        changed = [f for f in files if open(f, "rb").read() != before[f]]
        b1, i1 = unclean(changed, a.line_length) if changed else (set(), set())
        black_new = sorted(f for f in changed if f in b1 and f not in b0)
        isort_new = sorted(f for f in changed if f in i1 and f not in i0)
        print(f"{a.tree}: {len(files)} files, black-clean {len(files) - len(b0)}, isort-clean {len(files) - len(i0)}")
        print(f"  spipfix --fix {' '.join(extra)} ({took:.1f} s): {len(changed)} files changed; "
              f"{p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ''}")
        print(f"  of those clean before: black would change {len(black_new)}, isort would change {len(isort_new)}")
        for f in black_new:
            d = subprocess.run(["/usr/bin/black", "-q", "--diff", "-l", str(a.line_length), f],
                               capture_output=True, text=True).stdout
            print(d.replace(tmp + "/", ""))
        for f in isort_new:
            d = subprocess.run(["/usr/bin/isort", "--profile", "black", "-l", str(a.line_length), "--diff", f],
                               capture_output=True, text=True).stdout
            print(d.replace(tmp + "/", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

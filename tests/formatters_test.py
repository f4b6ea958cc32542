#!/usr/bin/python3
"""spipfix --fix is formatter-stable: on every golden input that Debian's black and isort
(profile black) accept, the file spipfix --fix writes is accepted by both too. Also checks that
a fix honours the project's line length ([tool.black] line-length) on a case made for it.

    /usr/bin/python3 tests/formatters_test.py --spipfix build/spipfix --golden golden

Skipped (exit 77) when black or isort is not installed.
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, summary  # noqa: E402

BLACK = shutil.which("black", path="/usr/bin")
ISORT = shutil.which("isort", path="/usr/bin")


def unclean(paths, line_length):
    """The paths black or isort would change: (black's set, isort's set). One run of each."""
    b = subprocess.run([BLACK, "--check", "-l", str(line_length), *paths], capture_output=True, text=True)
    i = subprocess.run([ISORT, "--profile", "black", "-l", str(line_length), "--check-only", *paths],
                       capture_output=True, text=True)
    black = {m for m in re.findall(r"^would reformat (.+)$", b.stderr, re.M)}
    isort = {m for m in re.findall(r"^ERROR: (.+?) Imports are incorrectly sorted", i.stdout + i.stderr, re.M)}
    return black, isort


def fmt_diff(path, line_length):
    b = subprocess.run([BLACK, "-q", "--diff", "-l", str(line_length), path], capture_output=True, text=True)
    i = subprocess.run([ISORT, "--profile", "black", "-l", str(line_length), "--diff", "-q", path],
                       capture_output=True, text=True)
    return (b.stdout + i.stdout)[-1500:]


def run_cases(spipfix, cases, tmp, line_length=88):
    """cases: [(name, input bytes, args)]. Copies each into its own folder, checks black and
    isort before, runs spipfix --fix, checks again. Returns how many files --fix changed."""
    paths = {}
    for k, (name, src, args) in enumerate(cases):
        d = os.path.join(tmp, f"c{k}")
        os.mkdir(d)
        if line_length != 88:
            with open(os.path.join(d, "pyproject.toml"), "w") as f:
                f.write(f"[tool.black]\nline-length = {line_length}\n")
        path = os.path.join(d, "input.py")
        with open(path, "wb") as f:
            f.write(src)
        paths[path] = (name, src, args)
    black0, isort0 = unclean(list(paths), line_length)
    todo = [p for p in paths if p not in black0 or p not in isort0]
    for p in todo:
        subprocess.run([spipfix, "--fix", "-q", "--no-cache"] + paths[p][2] + ["input.py"],
                       cwd=os.path.dirname(p), capture_output=True)
    black1, isort1 = unclean(todo, line_length) if todo else (set(), set())
    changed = 0
    for p in todo:
        name, src, _ = paths[p]
        with open(p, "rb") as f:
            ch = f.read() != src
        changed += ch
        ok = (p in black0 or p not in black1) and (p in isort0 or p not in isort1)
        check(f"{name}{' (changed)' if ch else ''}", ok, "" if ok else fmt_diff(p, line_length))
    return changed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", required=True)
    ap.add_argument("--golden", required=True)
    a = ap.parse_args()
    if not BLACK or not ISORT:
        print("black or isort not installed: skipped")
        return 77
    spipfix = os.path.abspath(a.spipfix)
    cases = []
    for rule in sorted(os.listdir(a.golden)):
        rdir = os.path.join(a.golden, rule)
        for case in sorted(os.listdir(rdir)):
            cdir = os.path.join(rdir, case)
            if not os.path.exists(os.path.join(cdir, "input.py")):
                continue
            with open(os.path.join(cdir, "input.py"), "rb") as f:
                src = f.read()
            args = []
            if os.path.exists(os.path.join(cdir, "args")):
                with open(os.path.join(cdir, "args")) as f:
                    args = shlex.split(f.read())
            cases.append((f"{rule}/{case}", src, args))
    with tempfile.TemporaryDirectory(prefix="fmt-") as tmp:
        changed = run_cases(spipfix, cases, tmp)
    check("some formatter-clean golden inputs were changed by --fix", changed >= 10, changed)
    # the project's line length: a hoisted pattern that fits 100 columns but not 88
    src = ('import re\n\n\ndef f(s):\n    return re.compile(r"(?P<key>[a-z_]+)\\s*=\\s*'
           '(?P<value>[^;]+);\\s*(?P<rest>.*)").match(s)\n').encode()
    for ll in (88, 100):
        with tempfile.TemporaryDirectory(prefix="fmt-ll-") as tmp:
            run_cases(spipfix, [(f"line length {ll}", src, [])], tmp, ll)
    return summary()


if __name__ == "__main__":
    sys.exit(main())

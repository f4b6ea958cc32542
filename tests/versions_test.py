"""The Python a project runs: --target-version, target-version in [tool.spipfix], the lower bound
of requires-python, a file the target cannot compile as an error (exit 2, the version named),
and the version in the JSON output and in the cache key. Run with Debian's /usr/bin/python3.

    /usr/bin/python3 tests/versions_test.py --spipfix build/spipfix --built py311,py312,py313
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from checks import check, summary

PEP695 = ('type Pair = tuple[int, int]\n\n\n'
          'def swap_all(pairs):\n    def swap(p):\n        return (p[1], p[0])\n\n'
          '    return [swap(p) for p in pairs]\n')
PEP701 = ('def joined(xs):\n    def show(x):\n        return f"<{x}>"\n\n'
          '    return f"{", ".join(show(x) for x in xs)}"\n')
PLAIN = 'def outer(xs):\n    def key(x):\n        return -x\n    return sorted(xs, key=key)\n'


def run(args, cwd, env=None, stdin=None):
    e = dict(os.environ)
    e.pop("SPIPFIX_TARGET_VERSION", None)
    e.update(env or {})
    p = subprocess.run([SPIPFIX, *args], cwd=cwd, capture_output=True, timeout=120, env=e,
                       input=stdin.encode() if stdin is not None else None,
                       stdin=None if stdin is not None else subprocess.DEVNULL)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def write(d, name, text):
    path = os.path.join(d, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def project(d, name, toml, files):
    root = os.path.join(d, name)
    if toml is not None:
        write(root, "pyproject.toml", toml)
    for n, text in files.items():
        write(root, n, text)
    return root


def target_of(root, *args):
    """The target version a run in `root` uses, from its JSON output on a plain file."""
    rc, out, err = run(["--no-cache", "--format", "json", *args, "plain.py"], root)
    try:
        rows = json.loads(out)
    except ValueError:
        return None, rc, err
    return (rows[0]["spipfix"]["target_version"] if rows else None), rc, err


def main():
    with tempfile.TemporaryDirectory() as d:
        write(d, "pep695.py", PEP695)
        write(d, "pep701.py", PEP701)
        write(d, "plain.py", PLAIN)

        # the default: py311, which cannot compile PEP 695 / PEP 701 syntax -> an error, exit 2
        for f, pep in (("pep695.py", "PEP 695"), ("pep701.py", "PEP 701")):
            rc, out, err = run([f], d)
            check(f"{f}: default target is an error (exit 2)", rc == 2, f"rc={rc} {out} {err}")
            check(f"{f}: the error names 3.11 and the version the file needs",
                  "error:" in err and "Python 3.11 cannot compile" in err and "needs Python 3.12 or newer" in err
                  and pep in err, err)
            check(f"{f}: never 'All checks passed!'", "All checks passed" not in out + err, out)
            rc, out, err = run(["--diff", f], d)
            check(f"{f}: --diff exits 2", rc == 2 and out == "", f"rc={rc} {out}")

        newer = [v for v in BUILT if v != "py311"]
        for v in newer:
            rc, out, err = run(["--target-version", v, "pep695.py", "pep701.py"], d)
            check(f"--target-version {v}: PEP 695 and 701 files compile and have findings",
                  rc == 1 and out.count("SPF101") == 2, f"rc={rc} {out} {err}")
            rc, out, err = run(["--target-version", v, "--diff", "pep695.py"], d)
            check(f"--target-version {v}: the fix of the PEP 695 file", rc == 1 and "+def _swap_all_swap(p):" in out,
                  out + err)

        rc, out, err = run(["--target-version", "py310", "plain.py"], d)
        check("unknown --target-version is a usage error", rc == 2 and "unknown version `py310`" in err, err)
        rc, out, err = run(["plain.py"], d, {"SPIPFIX_TARGET_VERSION": "py39"})
        check("a wrong SPIPFIX_TARGET_VERSION is ignored with a warning", rc == 1 and "ignored" in err, err)

        # the JSON names the version
        for v in BUILT:
            t, rc, err = target_of(d, "--target-version", v)
            check(f"JSON spipfix.target_version is {v}", t == v, f"{t} rc={rc} {err}")

        if "py312" in BUILT:
            # target-version in [tool.spipfix]: the configuration is read by 3.11's tomllib, then
            # spipfix runs itself again under 3.12
            root = project(d, "tv", '[tool.spipfix]\ntarget-version = "py312"\n', {"plain.py": PLAIN,
                                                                                 "pep695.py": PEP695})
            t, rc, err = target_of(root)
            check("target-version = py312 in [tool.spipfix]", t == "py312", f"{t} rc={rc} {err}")
            rc, out, err = run(["--no-cache", "pep695.py"], root)
            check("target-version = py312: the PEP 695 file is analysed", rc == 1 and "SPF101" in out, out + err)
            rc, out, err = run(["--no-cache", "-j", "2", "."], root)
            check("target-version = py312 with workers", rc == 1 and out.count("SPF101") == 2, out + err)
            t, rc, err = target_of(root, "--target-version", "py311")
            check("--target-version beats target-version", t == "py311", f"{t} {err}")
            rc, out, err = run(["--no-cache", "-", "--stdin-filename", "pep695.py"], root, stdin=PEP695)
            check("stdin under a configured target-version", rc == 1 and "SPF101" in out, out + err)

            # requires-python: its lower bound, in a pyproject.toml without [tool.spipfix]
            for spec, want in ((">=3.12", "py312"), (">= 3.12, <4", "py312"), ("~=3.12.1", "py312"),
                               ("==3.12.*", "py312"), (">=3.8", "py311"), ("<3.13,>=3.10", "py311"),
                               ("!=3.11.*", "py311")):
                root = project(d, "rp" + str(abs(hash(spec))), f'[project]\nname = "x"\nrequires-python = "{spec}"\n',
                               {"plain.py": PLAIN})
                t, rc, err = target_of(root)
                check(f"requires-python {spec!r} -> {want}", t == want, f"{t} rc={rc} {err}")
            root = project(d, "rpcfg", '[project]\nrequires-python = ">=3.12"\n\n[tool.spipfix]\ntarget-version = "py311"\n',
                           {"plain.py": PLAIN})
            t, rc, err = target_of(root)
            check("target-version beats requires-python", t == "py311", f"{t} {err}")

            # the cache keeps the versions apart: the same bytes, two answers
            root = project(d, "cache", None, {"pep695.py": PEP695})
            rc1, out1, _ = run(["pep695.py"], root)
            rc2, out2, _ = run(["--target-version", "py312", "pep695.py"], root)
            rc3, out3, _ = run(["pep695.py"], root)
            check("the cache is per target version", (rc1, rc2, rc3) == (2, 1, 2) and "SPF101" in out2,
                  f"{rc1} {rc2} {rc3} {out2}")

        # bad values are errors that name the file and the key
        for toml, what in (('[tool.spipfix]\ntarget-version = "py39"\n', "`target-version` must be one of"),
                           ('[tool.spipfix]\ntarget-version = 312\n', "not int"),
                           ('[project]\nrequires-python = "banana"\n', "is not a version specifier"),
                           ('[project]\nrequires-python = ">=4"\n', "newer than spipfix knows"),
                           ('[project]\nrequires-python = 3.12\n', "must be a string, not float")):
            root = project(d, "bad" + str(abs(hash(toml))), toml, {"plain.py": PLAIN})
            rc, out, err = run(["--no-cache", "plain.py"], root)
            check(f"bad configuration {toml.splitlines()[-1]!r} is an error", rc == 2 and what in err
                  and "pyproject.toml" in err, f"rc={rc} {err}")
    return summary()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", required=True)
    ap.add_argument("--built", required=True, help="comma-separated versions this build has")
    a = ap.parse_args()
    SPIPFIX = os.path.abspath(a.spipfix)
    BUILT = a.built.split(",")
    sys.exit(main())

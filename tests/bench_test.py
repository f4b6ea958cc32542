"""`spipfix bench`: structure and sanity, never absolute timings. Every finding with a fix gets
a row, the JSON parses, the timed code comes from the module (its globals, imports, relative
imports), a def built in a loop costs more than its alias by a wide margin, output of module code
stays off stdout, bad input is reported and the rest still measured, and --run never touches the
original tree. Run with Debian's /usr/bin/python3."""
import argparse
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from checks import check, summary

FAST = ["--rounds", "3", "--round-time", "2"]
PY = "/usr/bin/python3"



def figure(what, r):
    """Print a timing for the reader of the log (never a pass/fail verdict)."""
    ratio = r["before_ns"] / r["after_ns"] if r.get("after_ns") else float("inf")
    print(f"figure {what}: {r['before_ns']:.1f} ns vs {r['after_ns']:.1f} ns ({ratio:.1f}x)")

def run(args, cwd=None, env=None, timeout=300):
    p = subprocess.run([SPIPFIX, *args], cwd=cwd, env=env, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def write(d, name, text):
    path = os.path.join(d, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def snapshot(root):
    """Every file and folder under root with its bytes (or link target) and mode."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            if os.path.islink(p):
                data = os.readlink(p).encode()
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    data = f.read()
            else:
                data = b""
            out[os.path.relpath(p, root)] = (st.st_mode, st.st_mtime_ns, hashlib.sha256(data).hexdigest())
    return out


def fixable(path):
    """(row, code) of every finding `spipfix` marks fixable ([*]) in one file."""
    rc, out, err = run([path])
    rows = set()
    for line in out.splitlines():
        m = re.match(r".*?:(\d+):\d+: (SPF\d+) .*\[\*\]$", line)
        if m:
            rows.add((int(m.group(1)), m.group(2)))
    return rows


def bench_json(args, **kw):
    rc, out, err = run(["bench", "--format", "json", *FAST, *args], **kw)
    try:
        return rc, json.loads(out), err
    except ValueError as e:
        return rc, {"error": f"{e}: {out[:500]}"}, err


def covered(results):
    """(row, code) for every code a result row stands for (SPF101,SPF102 share one fix)."""
    return {(r["row"], c) for r in results for c in r["code"].split(",")}


def test_cases(cases):
    """The golden inputs: one row per fixable finding, timed, with the code the fix changes."""
    for case in sorted(os.listdir(cases)):
        path = os.path.join(cases, case, "input.py")
        want = fixable(path)
        before = snapshot(os.path.join(cases, case))
        rc, doc, err = bench_json([path])
        res = doc.get("results", [])
        check(f"{case}: exit 0 and JSON parses", rc == 0 and "results" in doc, f"rc={rc} {doc} {err}")
        check(f"{case}: a row per fixable finding", covered(res) == want and want, f"{covered(res)} vs {want}")
        check(f"{case}: the input is not modified", snapshot(os.path.join(cases, case)) == before)
        for r in res:
            name = f"{case}:{r['row']} {r['code']}"
            if r["code"] == "SPF301" and "skipped" in r:
                # a pure function the module never calls has nothing to time
                check(f"{name}: skipped only for want of a call site", "no call of" in r["skipped"], r)
                continue
            check(f"{name}: timed", "skipped" not in r, r.get("skipped"))
            if "skipped" in r:
                continue
            check(f"{name}: sane figures", r["before_ns"] > 0 and r["after_ns"] > 0 and r["loops"] >= 1
                  and len(r["before_rounds_ns"]) == 3 and len(r["after_rounds_ns"]) == 3
                  # JSON carries 6 significant digits
                  and abs(r["saved_ns"] - (r["before_ns"] - r["after_ns"])) <= 1e-5 * (r["before_ns"] + r["after_ns"]) + 1e-3
                  and r["spread_ns"] >= 0, r)
            code = r["code"].split(",")[0]
            if code in ("SPF101", "SPF102"):
                check(f"{name}: a def or lambda against the alias left at its site",
                      re.match(r"(@.*\n)*(def |lambda)", r["before_code"]) is not None
                      and re.fullmatch(r"\w+ = _\w+|_\w+|pass|", r["after_code"]) is not None, r)
            elif code == "SPF201":
                check(f"{name}: the call against a load of the hoisted name",
                      "(" in r["before_code"] and re.fullmatch(r"[A-Za-z_]\w*", r["after_code"]) is not None, r)
            elif code == "SPF301":
                check(f"{name}: the same call of the plain and of the cached function",
                      r["timed"] == "call" and r["before_code"] == r["after_code"] and "(" in r["before_code"], r)
        if case == "def_in_loop":
            lift = [r for r in res if "SPF102" in r["code"]]
            check("def_in_loop: one finding per site (SPF102, not also SPF101)",
                  len(lift) == 1 and lift[0]["code"] == "SPF102" and len(res) == 1, res)
            if lift and "before_ns" in lift[0]:
                r = lift[0]
                check("def_in_loop: runs 10 times per call", r["per_call"] == 10, r)
                check("def_in_loop: per 1M calls counts the 10 runs",
                      abs(r["per_million_calls_ms"] - 10 * r["saved_ns"]) < 1e-3 * max(1, abs(r["saved_ns"])), r)
                figure("def_in_loop: building the def against the alias", r)
        # the figures themselves are printed, not asserted: speed is measured by bench/, never
        # by a timed test (bench/bench_cases.py compares them with timeit)
        if case == "hoisted_re_compile":
            for r in res:
                if r["code"] == "SPF201" and "before_ns" in r:
                    figure("re.compile: the call against a global load", r)
        if case == "lru_cache_sum":
            for r in res:
                if r["code"] == "SPF301" and "before_ns" in r:
                    figure("lru_cache: summing range(100) against a cache hit", r)


def test_text_and_html(cases, d):
    paths = [os.path.join(cases, c, "input.py") for c in sorted(os.listdir(cases))]
    html = os.path.join(d, "report.html")
    rc, out, err = run(["bench", *FAST, "--html", html, *paths])
    lines = out.splitlines()
    check("text: exit 0", rc == 0, err)
    check("text: header", lines and lines[0].split() == ["location", "code", "before", "ns", "after", "ns", "saved",
                                                          "ns", "+-", "ns", "per", "1M", "calls", "note"], lines[:1])
    want = set()
    for p in paths:
        want |= {(p, row) for row, code in fixable(p)}
    shown = set()
    for line in lines[1:]:
        m = re.match(r"(\S+\.py):(\d+) ", line)
        if m:
            shown.add((m.group(1), int(m.group(2))))
    check("text: a row for every fixable finding", shown == want, f"{shown ^ want}")
    check("text: summary line", any(re.match(r"\d+ timed \(\d+ within the noise\), \d+ not timed\.", l) for l in lines),
          out)
    check("html: written", os.path.isfile(html))
    page = open(html).read() if os.path.isfile(html) else ""
    check("html: self-contained (no script, no external resource)",
          "<script" not in page and not re.search(r"\b(src|href)\s*=", page)
          and not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page), page[:300])
    m = re.search(r"<svg.*?</svg>", page, re.S)
    try:
        svg = ET.fromstring(m.group(0)) if m else None
    except ET.ParseError as e:
        svg = None
        print(e)
    timed = sum(1 for l in lines[1:] if re.match(r"\S+\.py:\d+ ", l) and "not timed" not in l)
    bars = len(svg.findall("{http://www.w3.org/2000/svg}rect")) if svg is not None else -1
    check("html: the chart is well-formed SVG with one bar per timed finding", bars == timed, f"{bars} vs {timed}")
    check("html: the table lists every row, and a total", page.count("<tr") == len(want) + 2 and
          page.count("<tr class=\"total\">") == 1, page.count("<tr"))


PKG_INIT = "from .mod import work\n"
PKG_HELPERS = "def helper(x):\n    return x + 1\n"
PKG_MOD = '''"""Imports of its own, a relative import, and a module constant the nested def reads."""
import math

from .helpers import helper

Number = float
print("module top level ran")


def work(n):
    def step(x: Number, f=helper) -> Number:
        return f(math.floor(x))

    total = 0
    for i in range(n):
        total += step(i)
    return total
'''


def test_module_namespace(d):
    """The timed def reads the module's globals, its imports and a relative import; module output
    goes to stderr, never into the report."""
    root = os.path.join(d, "ns")
    write(root, "pkg/__init__.py", PKG_INIT)
    write(root, "pkg/helpers.py", PKG_HELPERS)
    mod = write(root, "pkg/mod.py", PKG_MOD)
    rc, doc, err = bench_json([mod])
    res = doc.get("results", [])
    check("package module: JSON on stdout despite a print at import", rc == 0 and len(res) == 1, f"{doc} {err}")
    check("package module: the module's print went to stderr", "module top level ran" in err, err)
    if res:
        check("package module: timed with its globals, imports and relative import", "before_ns" in res[0], res[0])
        check("package module: the def as written, with its annotations and default",
              "f=helper" in res[0].get("before_code", "") and "Number" in res[0].get("before_code", ""), res[0])


def test_bad_input(d):
    good = write(d, "bad/good.py", "def f(xs):\n    def k(x):\n        return -x\n    return sorted(xs, key=k)\n")
    broken = write(d, "bad/broken.py", "def f(:\n    pass\n")
    raising = write(d, "bad/raising.py", "def f(xs):\n    def k(x):\n        return -x\n    return sorted(xs, key=k)\n"
                    "raise RuntimeError('boom at import')\n")
    rc, doc, err = bench_json([good, broken, raising])
    res = {os.path.basename(r["filename"]): r for r in doc.get("results", [])}
    check("bad input: exit 2 for a file that cannot be analysed", rc == 2, rc)
    check("bad input: the syntax error is reported on stderr", "broken.py" in err, err)
    check("bad input: the good file is still timed", "before_ns" in res.get("good.py", {}), res)
    check("bad input: a module that raises at import is listed, not timed, with the reason",
          "boom at import" in res.get("raising.py", {}).get("skipped", ""), res.get("raising.py"))


def test_module_side_effects(d):
    """A module that changes the working folder or exits at import: the others are still timed."""
    body = "def f(xs):\n    def k(x):\n        return -x\n    return sorted(xs, key=k)\n"
    write(d, "fx/a_dir/chdir.py", "import os\nos.chdir('/')\n" + body)  # first in sorted order
    write(d, "fx/b_exit.py", "import sys\n" + body + "sys.exit(3)\n")
    write(d, "fx/sibling.py", "VALUE = 1\n")
    write(d, "fx/c_plain.py", "import sibling\n" + body)
    rc, doc, err = bench_json(["a_dir/chdir.py", "b_exit.py", "c_plain.py"], cwd=os.path.join(d, "fx"))
    res = {r["filename"]: r for r in doc.get("results", [])}
    check("side effects: exit 0", rc == 0, f"rc={rc} {err}")
    check("side effects: a module that changes folder is timed", "before_ns" in res.get("a_dir/chdir.py", {}), res)
    check("side effects: a module that calls sys.exit is listed, not timed",
          "sys.exit(3)" in res.get("b_exit.py", {}).get("skipped", ""), res.get("b_exit.py"))
    check("side effects: a later module named relative to the starting folder imports its sibling",
          "before_ns" in res.get("c_plain.py", {}), res.get("c_plain.py"))


def test_noqa(d):
    body = "def f(xs):\n    def k(x):{}\n        return -x\n    return sorted(xs, key=k)\n"
    quiet = write(d, "noqa/quiet.py", body.format("  # noqa: SPF101"))
    loud = write(d, "noqa/loud.py", body.format(""))
    rc, doc, err = bench_json([quiet, loud])
    names = {os.path.basename(r["filename"]) for r in doc.get("results", [])}
    check("noqa: a suppressed finding is not measured, the others are", rc == 0 and names == {"loud.py"}, doc)


def test_unsafe(d):
    path = write(d, "unsafe/m.py", "def f():\n    def k(x):\n        return -x\n    return k\n")
    rc, doc, err = bench_json([path])
    check("unsafe fixes: not measured by default", rc == 0 and doc.get("results") == [], doc)
    rc, doc, err = bench_json(["--unsafe-fixes", path])
    res = doc.get("results", [])
    check("unsafe fixes: measured with --unsafe-fixes", len(res) == 1 and res[0]["applicability"] == "unsafe", doc)


TOTAL = "def total(n):\n    acc = 0\n    for i in range(n):\n        acc += i * i\n    return acc\n\n\n"


def test_memo_call_sites(d):
    """SPF301 is timed at a call with constant arguments (a variable one would not run alone)."""
    const = write(d, "memo/const.py", TOTAL + "def user():\n    return total(300) + total(400)\n")
    var = write(d, "memo/var.py", TOTAL + "def user(k):\n    return total(k)\n")
    rc, doc, err = bench_json(["--unsafe-fixes", const, var])
    res = {(os.path.basename(r["filename"]), r["qualname"]): r for r in doc.get("results", [])
           if r["code"] == "SPF301"}
    c, v = res.get(("const.py", "total"), {}), res.get(("var.py", "total"), {})
    if not c:
        check("memo call sites: SPF301 proposes (unsafe) fixes for `total`", False, doc)
        return
    check("memo call sites: the call with a constant argument is timed", c.get("before_code") == "total(300)"
          and c.get("after_code") == "total(300)" and c.get("before_ns", 0) > 3 * c.get("after_ns", 1e9), c)
    check("memo call sites: a function called with a variable argument is not proposed", not v, v)


def test_select(cases):
    paths = [os.path.join(cases, c, "input.py") for c in ("bare_nested_def", "hoisted_re_compile")]
    rc, doc, err = bench_json(["--select", "SPF201", *paths])
    codes = {r["code"] for r in doc.get("results", [])}
    want = {c for p in paths for _, c in fixable(p) if c == "SPF201"}
    check("--select: only the selected rule is measured", rc == 0 and codes == want and want, f"{codes} vs {want}")
    rc, out, err = run(["bench", "--select", "SPF999", *paths])
    check("--select: an unknown rule is exit 2", rc == 2 and "unknown rule" in err, err)


def test_usage():
    rc, out, err = run(["bench"])
    check("usage: no paths is exit 2", rc == 2 and "no paths" in err, err)
    rc, out, err = run(["bench", "--rounds", "0", "x.py"])
    check("usage: --rounds 0 is exit 2", rc == 2, err)
    rc, out, err = run(["bench", "--format", "xml", "x.py"])
    check("usage: unknown format is exit 2", rc == 2, err)
    rc, out, err = run(["bench", "--run", "true", "a", "b"])
    check("usage: --run takes one path", rc == 2 and "exactly one PATH" in err, err)
    rc, out, err = run(["bench", "--help"])
    check("help: says the module is imported and its top level runs",
          rc == 0 and "imported" in out and "top level runs" in out, out[:400])


RUN_MOD = '''def work(n):
    def step(x):
        return x * 2

    total = 0
    for i in range(n):
        total += step(i)
    return total
'''

# The command proves that each side imports its own tree, and that the copy carries the fix.
RUN_CHECK = r'''
import os, pkg, pkg.mod
tree, side = os.environ["SPIPFIX_TREE"], os.environ["SPIPFIX_BENCH_SIDE"]
assert pkg.__file__.startswith(tree + os.sep), (pkg.__file__, tree)
src = open(pkg.mod.__file__).read()
assert ("_work_step" in src) == (side == "fixed"), side
print(pkg.mod.work(20000))
'''


def test_run(d):
    tmp = os.path.join(d, "tmpdir")
    os.makedirs(tmp)
    root = os.path.join(d, "run")
    write(root, "pkg/__init__.py", "")
    write(root, "pkg/mod.py", RUN_MOD)
    # suppressed: --run must not fix it (fixes_applied stays 1)
    write(root, "pkg/quiet.py", RUN_MOD.replace("def step(x):", "def step(x):  # noqa"))
    os.chmod(os.path.join(root, "pkg", "mod.py"), 0o444)
    pkg = os.path.join(root, "pkg")
    before = snapshot(root)
    env = dict(os.environ, TMPDIR=tmp)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the workload may write .pyc: never into the tree
    cmd = f"{PY} -c {shlex.quote(RUN_CHECK)}"
    rc, doc, err = bench_json(["--run", cmd, "--rounds", "2", pkg], env=env)
    check("--run: exit 0 and JSON parses", rc == 0 and doc.get("mode") == "run", f"rc={rc} {doc} {err}")
    check("--run: the fix was applied to the copy", doc.get("fixes_applied") == 1 and doc.get("files_changed") == 1,
          doc)
    check("--run: rounds of both sides",
          len(doc.get("original", {}).get("rounds_s", [])) == 2 and len(doc.get("fixed", {}).get("rounds_s", [])) == 2
          and doc.get("ratio", 0) > 0, doc)
    check("--run: the same output on both sides", doc.get("output_differs") is False, doc)
    check("--run: the original tree is untouched (no .pyc, no edit)", snapshot(root) == before,
          set(snapshot(root)) ^ set(before))
    check("--run: the temporary copy is removed", os.listdir(tmp) == [], os.listdir(tmp))

    html = os.path.join(d, "run.html")
    rc, out, err = run(["bench", "--run", cmd, "--rounds", "2", "--html", html, pkg], env=env)
    check("--run text: medians, ratio and spread", rc == 0 and all(
        re.search(p, out, re.M) for p in (r"^original +[\d.]+ ms", r"^fixed +[\d.]+ ms", r"^ratio +[\d.]+",
                                          r"^saved .*\+-")), out + err)
    page = open(html).read() if os.path.isfile(html) else ""
    check("--run html: a bar per side and round", page.count("<rect") == 4 and "<script" not in page, page[:200])

    rc, out, err = run(["bench", "--run", 'test "$SPIPFIX_BENCH_SIDE" = original', "--rounds", "1", pkg], env=env)
    check("--run: a command that fails only against the fixed copy is an error that says so",
          rc == 2 and "fails against the fixed copy" in err and "kept in" in err, err)
    check("--run: ... and the original is still untouched", snapshot(root) == before)
    rc, doc, err = bench_json(["--run", 'echo "$SPIPFIX_BENCH_SIDE"', "--rounds", "1", pkg], env=env)
    check("--run: different stdout is flagged", rc == 0 and doc.get("output_differs") is True and "differs" in err,
          f"{doc} {err}")
    rc, out, err = run(["bench", "--run", "exit 3", "--rounds", "1", pkg], env=env)
    check("--run: a failing command is exit 2 with its status", rc == 2 and "exit status 3" in err, err)


INTERPRETERS = {"py311": "/usr/bin/python3.11", "py312": "/root/.pyenv/versions/3.12.1/bin/python3.12",
                "py313": "/root/.pyenv/versions/3.13.0/bin/python3.13"}


def test_interpreter(cases, d):
    """The snippets run in the user's interpreter: by default the target version's, else --python."""
    path = os.path.join(cases, "bare_nested_def", "input.py")
    target = os.environ.get("SPIPFIX_TARGET_VERSION", "py311")
    rc, out, err = run(["bench", "--format", "json", "--rounds", "1", "--round-time", "1", path])
    rep = json.loads(out) if rc == 0 else {}
    want = "3." + target[3:] + "."
    check(f"bench times in the target's interpreter ({target})", rc == 0 and rep.get("python", "").startswith(want)
          and rep.get("target_version") == target, f"rc={rc} {rep.get('python')} {err}")
    # the harness runs in a child process: the module's top level never runs in spipfix itself
    probe = write(d, "interp/probe.py", "import os, sys\nprint('PID', os.getpid(), sys.executable, file=sys.stderr)\n"
                  "def f():\n    def g():\n        return 1\n    return g()\n")
    rc, out, err = run(["bench", "--format", "json", "--rounds", "1", "--round-time", "1", probe])
    pids = [line.split() for line in err.splitlines() if line.startswith("PID ")]
    check("the module runs in a child interpreter, not in spipfix", rc == 0 and pids and
          all(int(p[1]) != os.getpid() for p in pids) and all(p[2] == json.loads(out)["interpreter"] for p in pids),
          f"{pids} {err}")
    other = next((v for v in INTERPRETERS if v != target and os.path.exists(INTERPRETERS[v])), None)
    if other:
        rc, out, err = run(["bench", "--format", "json", "--rounds", "1", "--round-time", "1", "--python",
                            INTERPRETERS[other], path])
        rep = json.loads(out) if rc == 0 else {}
        check(f"--python {INTERPRETERS[other]}", rc == 0 and rep.get("python", "").startswith("3." + other[3:] + ".")
              and rep.get("interpreter") == INTERPRETERS[other], f"rc={rc} {rep.get('python')} {err}")
    rc, out, err = run(["bench", "--python", "/nonexistent/python", path])
    check("--python that does not exist: exit 2", rc == 2 and "/nonexistent/python" in err, f"rc={rc} {err}")
    rc, out, err = run(["bench", "--python", "/bin/false", path])
    check("--python that is no Python: exit 2 with a message", rc == 2 and "harness" in err, f"rc={rc} {err}")


def main():
    global SPIPFIX
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", required=True)
    ap.add_argument("--cases", required=True)
    a = ap.parse_args()
    SPIPFIX = os.path.abspath(a.spipfix)
    with tempfile.TemporaryDirectory() as d:
        test_usage()
        test_cases(a.cases)
        test_text_and_html(a.cases, d)
        test_select(a.cases)
        test_module_namespace(d)
        test_bad_input(d)
        test_module_side_effects(d)
        test_unsafe(d)
        test_noqa(d)
        test_memo_call_sites(d)
        test_run(d)
        test_interpreter(a.cases, d)
    return summary()


if __name__ == "__main__":
    sys.exit(main())

"""`spipfix trace`: exact instruction counts on scripts whose counts are known by construction,
the program's argv/stdout/stderr/exit status passed through as /usr/bin/python3 gives them,
-i/-f/-m, the JSON report, and `--trace-profile` ordering the check path's diagnostics.
Run with Debian's /usr/bin/python3."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from checks import check, summary

PYTHON = "/usr/bin/python3"
ORACLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "trace_oracle.py")
# pyenv's shared CPythons (on every machine of this kind and in CI), when spipfix built a counter for them
OTHER_PYTHONS = [p for p in ("/root/.pyenv/versions/3.12.1/bin/python3.12", "/root/.pyenv/versions/3.13.0/bin/python3.13")
                 if os.path.exists(p)]
PY310 = "/root/.pyenv/versions/3.10.13/bin/python3.10"


def run(cmd, cwd, env=None):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=300, env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def write(d, name, text):
    path = os.path.join(d, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def trace_json(args, cwd):
    out = os.path.join(cwd, "trace.json")
    if os.path.exists(out):
        os.unlink(out)
    rc, so, se = run([SPIPFIX, "trace", "--format", "json", "-o", out, *args], cwd)
    data = None
    if os.path.exists(out):
        with open(out) as f:
            data = json.load(f)
    return rc, so, se, data


def at(data, fname, line, op):
    return sum(r["count"] for r in data["by_location"]
               if os.path.basename(r["file"]) == fname and r["line"] == line and r["instruction"] == op)


# N_OUTER calls of outer() build `inner` once each, plus a lambda per element of a
# 7-element comprehension per call, plus a def in a loop of 3 iterations per call.
NESTED = """\
import sys
def outer(n):
    def inner(x):
        return x + 1
    ys = [(lambda v: v)(i) for i in range(7)]
    for k in range(3):
        def again():
            return k
    return inner(n) + len(ys)
N = int(sys.argv[1])
total = 0
for i in range(N):
    total += outer(i)
print(total)
"""

BUILDS = """\
def make(n):
    k = n
    def g():
        return k
    return g
g = make(3)
for i in range(100):
    g()
for i in range(7):
    x = [i, i]
for i in range(9):
    t = (i, i)
for i in range(11):
    s = {i}
for i in range(13):
    d = {'a': i}
"""

# a function hot enough to be quickened (LOAD_GLOBAL/LOAD_ATTR get specialised forms)
HOT = """\
class O:
    def __init__(self):
        self.x = 1
o = O()
def f():
    return len("ab") + o.x
for i in range(500):
    f()
"""

# f is quickened in a thread (not traced) before the main thread calls it: the tracer first sees
# its code with specialised instructions in it
WARM = """\
import threading
class O:
    def __init__(self):
        self.x = 1
o = O()
def f():
    return len("ab") + o.x
def warm():
    for i in range(1000):
        f()
t = threading.Thread(target=warm)
t.start()
t.join()
for i in range(300):
    f()
"""


# what the counter derives instead of observing: exceptions raised, caught, re-raised and
# propagated, generators thrown into and closed, yield from, await, one-line loops, conditional
# expressions, match, with, recursion, properties and __getitem__, and a thread (not counted)
TORTURE = """\
import asyncio, threading
def cond(x):
    return 1 if x % 3 else 2
def oneline(n):
    t = 0
    for i in range(n): t += i if i % 2 else -i
    while n > 0: n -= 1
    return t
def exc(i):
    try:
        if i % 2:
            raise ValueError(i)
        x = 1
    except ValueError as e:
        x = 2
    finally:
        y = 3
    try:
        {}[i]
    except KeyError:
        pass
    return x + y
def deep(i):
    if i % 5 == 0:
        raise KeyError(i)
    return i
def caller(i):
    try:
        return deep(i) + 1
    except KeyError:
        return -1
def lin_raise(i):
    return [1][i]
def gen(n):
    for i in range(n):
        yield i
    yield from range(3)
def gen2():
    x = yield 1
    while True:
        try:
            x = yield x
        except ValueError:
            x = -1
class C:
    def __init__(self):
        self.v = 4
    def __getitem__(self, k):
        return k * 2
    @property
    def p(self):
        return self.v + 1
async def leaf(i):
    await asyncio.sleep(0)
    return i
async def mid(i):
    r = await leaf(i)
    s = await other(i)
    return r + s
async def other(i):
    return i
async def amain():
    t = 0
    for i in range(20):
        t += await mid(i)
    async def agen():
        for i in range(3):
            yield i
    async for v in agen():
        t += v
    return t
def matcher(v):
    match v:
        case [a, b]:
            return a + b
        case {"k": k}:
            return k
        case int() if v > 3:
            return 1
        case _:
            return 0
def withs(i):
    with open(__file__) as f:
        n = len(f.readline())
    try:
        with open(__file__) as f:
            raise OSError
    except OSError:
        pass
    return n
def rec(n):
    return 1 if n <= 1 else n * rec(n - 1)
def shortc(a, b):
    return (a and b) or (not a and 7) or b
def comp(n):
    return {i: [j for j in range(i) if j % 2] for i in range(n)}, {x for x in range(n)}, sum(x for x in range(n))
def main():
    tot = 0
    c = C()
    for i in range(300):
        tot += cond(i) + exc(i) + caller(i) + c[i] + c.p + matcher([i, 1]) + matcher({"k": i}) + matcher(i)
        tot += shortc(i % 2, i % 3)
        try:
            lin_raise(i % 2)
        except IndexError:
            tot += 1
    tot += oneline(50) + sum(gen(10)) + rec(20) + withs(1) + len(comp(10)[0])
    g = gen2(); next(g)
    for i in range(10):
        tot += g.send(i)
        tot += g.throw(ValueError)
    g.close()
    tot += asyncio.run(amain())
    th = threading.Thread(target=lambda: [cond(i) for i in range(1000)])
    th.start(); th.join()
    print(tot)
main()
"""


def extended_arg_script():
    """A LOAD_CONST whose argument needs EXTENDED_ARG (constant index > 255), run 5 times."""
    lines = ["def f():"]
    for i in range(300):
        lines.append(f"    a{i} = {1000 + i}")
    lines.append("    return a0")
    lines.append("for i in range(5):")
    lines.append("    f()")
    return "\n".join(lines) + "\n"


def main():
    with tempfile.TemporaryDirectory() as d:
        write(d, "nested.py", NESTED)
        n = 1234
        rc, so, se, data = trace_json(["-f", "nested.py", "nested.py", str(n)], d)
        check("nested: exit 0", rc == 0, f"rc={rc} {se}")
        check("nested: script output passes through", so == f"{sum(i + 1 + 7 for i in range(n))}\n", so)
        check("nested: inner built once per outer call", at(data, "nested.py", 3, "MAKE_FUNCTION") == n,
              data and data["by_location"])
        check("nested: outer built once", at(data, "nested.py", 2, "MAKE_FUNCTION") == 1)
        # line 5: the comprehension function (once per call) and the lambda (7 per call)
        check("nested: lambda in comprehension", at(data, "nested.py", 5, "MAKE_FUNCTION") == n * 7 + n)
        check("nested: def in a loop", at(data, "nested.py", 7, "MAKE_FUNCTION") == 3 * n)
        mf = [r["count"] for r in data["by_instruction"] if r["instruction"] == "MAKE_FUNCTION"]
        check("nested: MAKE_FUNCTION total", mf == [1 + n + 8 * n + 3 * n], mf)
        check("nested: default instructions", data["instructions"] == [
            "MAKE_FUNCTION", "BUILD_TUPLE", "BUILD_LIST", "BUILD_SET", "BUILD_MAP", "LOAD_DEREF", "CALL"],
              data["instructions"])
        check("nested: the interpreter is named", data["python"].startswith("3.11.") and
              data["interpreter"] == PYTHON, (data["python"], data["interpreter"]))
        calls = {(c["qualname"], c["firstlineno"]): c["calls"] for c in data["code_objects"]}
        check("nested: calls of each code object", calls.get(("outer", 2)) == n and
              calls.get(("outer.<locals>.inner", 3)) == n and calls.get(("<module>", 1)) == 1 and
              calls.get(("outer.<locals>.<listcomp>.<lambda>", 5)) == 7 * n, calls)
        mk = [r for r in data["by_position"] if r["instruction"] == "MAKE_FUNCTION" and r["line"] == 5]
        check("nested: two MAKE_FUNCTIONs of one line told apart by position",
              sorted((r["column"], r["count"]) for r in mk) == [(9, n), (11, n * 7)], mk)
        check("nested: tracked = sum of the instruction table",
              data["tracked_instructions"] == sum(r["count"] for r in data["by_instruction"]))
        check("nested: total >= tracked", data["total_instructions"] > data["tracked_instructions"])
        check("nested: only the -f file", {os.path.basename(r["file"]) for r in data["by_location"]} == {"nested.py"})
        check("nested: file path is real", data["files"][0]["path"] == os.path.realpath(os.path.join(d, "nested.py")))

        rc, so, se = run([SPIPFIX, "trace", "-f", "nested.py", "nested.py", "100"], d)
        lines = so.splitlines()
        check("text: program output first", lines[0] == str(sum(i + 8 for i in range(100))), so)
        check("text: tracked / total line", lines[1].startswith("tracked / total instructions: "), so)
        check("text: instruction table", "| INSTRUCTION" in so and f"{1 + 100 + 800 + 300} | MAKE_FUNCTION" in so, so)
        check("text: location table", "  100 | " + os.path.join(d, "nested.py") + ":3 (MAKE_FUNCTION)" in so, so)

        write(d, "builds.py", BUILDS)
        rc, so, se, data = trace_json(["-f", "builds.py", "builds.py"], d)
        check("builds: LOAD_DEREF per call of the closure", at(data, "builds.py", 4, "LOAD_DEREF") == 100)
        check("builds: BUILD_LIST", at(data, "builds.py", 10, "BUILD_LIST") == 7)
        check("builds: BUILD_TUPLE", at(data, "builds.py", 12, "BUILD_TUPLE") == 9)
        check("builds: BUILD_SET", at(data, "builds.py", 14, "BUILD_SET") == 11)
        check("builds: BUILD_MAP", at(data, "builds.py", 16, "BUILD_MAP") == 13)

        write(d, "hot.py", HOT)
        rc, so, se, data = trace_json(["-i", "LOAD_GLOBAL", "-i", "load_attr,CALL", "-f", "hot.py", "hot.py"], d)
        check("-i: chosen instructions only", data["instructions"] == ["LOAD_GLOBAL", "LOAD_ATTR", "CALL"],
              data["instructions"])
        # specialised forms (LOAD_GLOBAL_BUILTIN, LOAD_ATTR_INSTANCE_VALUE) count as the base one
        check("specialised LOAD_GLOBAL counted", at(data, "hot.py", 6, "LOAD_GLOBAL") == 2 * 500,
              at(data, "hot.py", 6, "LOAD_GLOBAL"))
        check("specialised LOAD_ATTR counted", at(data, "hot.py", 6, "LOAD_ATTR") == 500)
        check("CALL counted", at(data, "hot.py", 6, "CALL") == 500 and at(data, "hot.py", 8, "CALL") == 500)

        write(d, "warm.py", WARM)
        rc, so, se, data = trace_json(["-i", "LOAD_GLOBAL,LOAD_ATTR", "-f", "warm.py", "warm.py"], d)
        check("code quickened before first sight: LOAD_GLOBAL", at(data, "warm.py", 7, "LOAD_GLOBAL") == 2 * 300,
              at(data, "warm.py", 7, "LOAD_GLOBAL"))
        check("code quickened before first sight: LOAD_ATTR", at(data, "warm.py", 7, "LOAD_ATTR") == 300,
              at(data, "warm.py", 7, "LOAD_ATTR"))

        write(d, "ext.py", extended_arg_script())
        rc, so, se, data = trace_json(["-i", "LOAD_CONST", "-f", "ext.py", "ext.py"], d)
        check("EXTENDED_ARG: counted as the instruction it extends",
              at(data, "ext.py", 2 + 290, "LOAD_CONST") == 5 and at(data, "ext.py", 2 + 10, "LOAD_CONST") == 5,
              (at(data, "ext.py", 292, "LOAD_CONST"), at(data, "ext.py", 12, "LOAD_CONST")))

        # -f: only the helper module imported by the script
        write(d, "helper.py", "def h():\n    return lambda: 1\n")
        write(d, "main.py", "import helper\nfor i in range(4):\n    helper.h()\n")
        rc, so, se, data = trace_json(["-f", "helper.py", "main.py"], d)
        check("-f: counts the imported module", at(data, "helper.py", 2, "MAKE_FUNCTION") == 4)
        check("-f: leaves the others out", all(os.path.basename(r["file"]) == "helper.py" for r in data["by_location"]))
        rc, so, se, data_all = trace_json(["main.py"], d)
        check("no -f: more files, larger total", len(data_all["files"]) > 1 and
              data_all["total_instructions"] > data["total_instructions"])
        rc, so, se, data = trace_json(["-f", "*/nothere/*", "main.py"], d)
        check("-f with a path glob that matches nothing", data["total_instructions"] == 0 and not data["by_location"])

        # no -f: the files of the project (the current folder, the script's), not the standard library
        write(d, "uses_json.py", "import json, helper\nfor i in range(3):\n    json.dumps([i])\n    helper.h()\n")
        rc, so, se, data = trace_json(["uses_json.py"], d)
        names = {os.path.basename(f["file"]) for f in data["files"]}
        check("default: the project's files only", names == {"uses_json.py", "helper.py"}, names)
        rc, so, se, data = trace_json(["--all", "uses_json.py"], d)
        check("--all: the standard library too", any(f["file"].endswith("json/encoder.py") for f in data["files"]),
              [f["file"] for f in data["files"]][:10])
        sub = os.path.join(d, "elsewhere")
        os.makedirs(sub, exist_ok=True)
        rc, so, se, data = trace_json([os.path.join(d, "main.py")], sub)
        check("default: the script's folder counts when started from another",
              at(data, "helper.py", 2, "MAKE_FUNCTION") == 4, data["files"])

        # --children: the Python processes the program starts are counted too, and merged
        write(d, "kid.py", "for i in range(5):\n    f = lambda: i\n")
        write(d, "parent.py", "import subprocess, sys\nsubprocess.run([sys.executable, 'kid.py'], check=True)\n"
              "subprocess.run([sys.executable, 'kid.py'], check=True)\n")
        rc, so, se, data = trace_json(["--children", "parent.py"], d)
        check("--children: two processes merged", rc == 0 and data["processes"] == 3 and
              at(data, "kid.py", 2, "MAKE_FUNCTION") == 10, f"{rc} {se} {data and data['processes']}")
        rc, so, se, data = trace_json(["parent.py"], d)
        check("without --children: the main process only", data["processes"] == 1 and
              at(data, "kid.py", 2, "MAKE_FUNCTION") == 0)
        if os.path.exists(PY310):
            write(d, "old_kid.py", f"import subprocess\nprint(subprocess.run([{PY310!r}, '-c', 'print(42)'], "
                  "capture_output=True, text=True).stdout.strip())\n")
            rc, so, se, data = trace_json(["--children", "old_kid.py"], d)
            check("--children: a child of a version without a counter runs uncounted, and says so",
                  rc == 0 and so == "42\n" and "ran uncounted" in se, f"{rc} {so} {se}")

        # -m MODULE with arguments
        write(d, "pkg/__init__.py", "")
        write(d, "pkg/tool.py", "import sys\nprint(sys.argv)\nf = [lambda: 0 for _ in range(int(sys.argv[1]))]\n")
        rc, so, se, data = trace_json(["-f", "tool.py", "-m", "pkg.tool", "6", "-i"], d)
        py = run([PYTHON, "-m", "pkg.tool", "6", "-i"], d)
        check("-m: exit status and output as python3 -m", (rc, so, se) == py, f"{(rc, so, se)} vs {py}")
        check("-m: counts", at(data, "tool.py", 3, "MAKE_FUNCTION") == 7, data and data["by_location"])

        # pass-through: argv, stdout, stderr, exit status, exceptions, as /usr/bin/python3 gives them
        progs = {
            "exit3.py": "import sys\nprint('out', sys.argv[1:])\nprint('err', file=sys.stderr)\nsys.exit(3)\n",
            "exitmsg.py": "import sys\nsys.exit('bye')\n",
            "exitnone.py": "raise SystemExit\n",
            "raises.py": "def f():\n    raise ValueError('boom')\nprint('before')\nf()\n",
            "chained.py": "try:\n    1/0\nexcept ZeroDivisionError as e:\n    raise KeyError('k') from e\n",
            "atexit_out.py": "import atexit\natexit.register(print, 'at exit')\nprint('main')\n",
            "stdin.py": "import sys\nprint(sys.stdin.read().upper())\n",
        }
        for name, text in progs.items():
            write(d, name, text)
            args = [name, "x", "--flag"]
            py = subprocess.run([PYTHON, *args], cwd=d, capture_output=True, input=b"in", timeout=60)
            out = os.path.join(d, "r.txt")
            sp = subprocess.run([SPIPFIX, "trace", "-o", out, *args], cwd=d, capture_output=True, input=b"in",
                                timeout=60)
            same = (sp.returncode, sp.stdout, sp.stderr) == (py.returncode, py.stdout, py.stderr)
            check(f"pass-through {name}", same, f"\n{sp}\n{py}")
            with open(out) as f:
                check(f"report written for {name}", f.read().startswith("tracked / total instructions: "))
        rc, so, se = run([SPIPFIX, "trace", "exit3.py"], d)
        check("report follows the output on stdout", rc == 3 and so.startswith("out []\n")
              and "tracked / total" in so, so)

        # the interpreter: --python, --target-version; one without a counter is an error before the program runs
        for py in OTHER_PYTHONS:
            rc, so, se, data = trace_json(["--python", py, "-f", "nested.py", "nested.py", "50"], d)
            check(f"--python {py}: counts", rc == 0 and at(data, "nested.py", 3, "MAKE_FUNCTION") == 50 and
                  data["interpreter"] == py, f"{rc} {se}")
            pyr = subprocess.run([py, "chained.py", "a"], cwd=d, capture_output=True, timeout=60)
            spr = subprocess.run([SPIPFIX, "trace", "--python", py, "-o", os.devnull, "chained.py", "a"], cwd=d,
                                 capture_output=True, timeout=60)
            check(f"--python {py}: pass-through of an exception", (pyr.returncode, pyr.stdout, pyr.stderr) ==
                  (spr.returncode, spr.stdout, spr.stderr), f"{spr} {pyr}")
        rc, so, se, data = trace_json(["--target-version", "py311", "-f", "nested.py", "nested.py", "5"], d)
        check("--target-version py311", rc == 0 and data["interpreter"] == PYTHON, f"{rc} {se}")
        rc, so, se = run([SPIPFIX, "trace", "--target-version", "py39", "exit3.py"], d)
        check("--target-version without a counter exits 2", rc == 2 and "3.9" in se and "out" not in so, f"{rc} {se}")
        if os.path.exists(PY310):
            rc, so, se = run([SPIPFIX, "trace", "--python", PY310, "exit3.py"], d)
            check("an interpreter without a counter exits 2 before the program runs",
                  rc == 2 and "no counter was built for Python 3.10" in se and "out" not in so, f"{rc} {so} {se}")

        # usage errors
        rc, so, se = run([SPIPFIX, "trace", "-i", "NOT_AN_OP", "exit3.py"], d)
        check("unknown instruction exits 2", rc == 2 and "NOT_AN_OP" in se and "out" not in so, f"{rc} {se}")
        rc, so, se = run([SPIPFIX, "trace", "missing.py"], d)
        check("missing script exits 2", rc == 2 and "missing.py" in se, f"{rc} {se}")
        rc, so, se = run([SPIPFIX, "trace"], d)
        check("no script exits 2", rc == 2, f"{rc}")
        rc, so, se = run([SPIPFIX, "trace", "--help"], d)
        check("--help", rc == 0 and "-i, --instructions" in so and "--trace-profile" in so)
        rc, so, se = run([SPIPFIX, "trace", "-n", "1", "nested.py", "10"], d)
        check("--limit", "more (--limit 0 shows all)" in so, so)

        # --trace-profile on the check path
        write(d, "app/app.py", "def a(xs):\n    def key(x):\n        return -x\n    return sorted(xs, key=key)\n\n"
              "def b(n):\n    f = lambda y: y * 2\n    return f(n)\n\n"
              "def never():\n    g = lambda: 1\n    return g()\n\n"
              "for i in range(10):\n    a([1, 2])\nfor i in range(50):\n    b(i)\n")
        write(d, "app/other.py", "def o():\n    def p():\n        pass\n    return p()\n")
        rc, so, se, data = trace_json(["app/app.py"], d)
        prof = os.path.join(d, "trace.json")
        rc, so, se = run([SPIPFIX, "--trace-profile", prof, "app"], d)
        lines = [l for l in so.splitlines() if "SPF101" in l]
        check("profile: ordered by count", [l.split(":")[1] for l in lines] == ["7", "2", "11", "2"], so)
        check("profile: counts shown", lines[0].endswith("(executed 50 times)") and
              lines[1].endswith("(executed 10 times)") and lines[2].endswith("(executed 0 times)"), so)
        check("profile: untraced file last", lines[3].startswith("app/other.py:2:") and
              lines[3].endswith("(not traced)"), so)
        check("profile: exit status unchanged", rc == 1, f"{rc}")
        rc, so, se = run([SPIPFIX, "--diff", f"--trace-profile={prof}", "app/app.py"], d)
        check("profile --diff: stdout is the diff only", so.startswith("--- app/app.py") and "executed" not in so, so)
        el = [l for l in se.splitlines() if "SPF101" in l]
        check("profile --diff: findings on stderr, ordered", [l.split(":")[1] for l in el] == ["7", "2", "11"], se)
        write(d, "bad.json", "{\"format\": \"other\"}")
        rc, so, se = run([SPIPFIX, "--trace-profile", "bad.json", "app"], d)
        check("profile: a bad file exits 2", rc == 2 and "bad.json" in se and so == "", f"{rc} {se}")
        rc, so, se = run([SPIPFIX, "--trace-profile", "nope.json", "app"], d)
        check("profile: a missing file exits 2", rc == 2 and "nope.json" in se, f"{rc} {se}")
        rc, so, se = run([SPIPFIX, "app", "--trace-profile"], d)
        check("profile: the option needs a file", rc == 2, f"{rc} {se}")

        # each finding's own count: SPF201 the call at its position (not the def of its function),
        # SPF301 the calls of the function, SPF101 the MAKE_FUNCTION at the def's own position
        write(d, "own/own.py", "import re\n\ndef words(s):\n    return re.compile(r\"\\w+\").findall(s)\n\n"
              "def pick(n):\n    f = (lambda: 1) if n % 3 else (lambda: 2)\n    return f()\n\n"
              "def total(n):\n    s = 0\n    for i in range(1000):\n        s += i * i\n    return s + n\n\n"
              "def run():\n    return total(1)\n\n"
              "for i in range(300):\n    words('a b')\nfor i in range(9):\n    pick(i)\n"
              "for i in range(7):\n    run()\n")
        rc, so, se, data = trace_json(["own/own.py"], d)
        prof = os.path.join(d, "trace.json")
        rc, so, se = run([SPIPFIX, "--trace-profile", prof, "--format", "json", "own"], d)
        got = {(f["code"], f["location"]["row"], f["location"]["column"]): f["spipfix"]["executions"]
               for f in json.loads(so)}
        check("own count: SPF201 the call, 300 times", got.get(("SPF201", 4, 12)) == 300, got)
        check("own count: SPF101 each lambda of one line", got.get(("SPF101", 7, 10)) == 6 and
              got.get(("SPF101", 7, 36)) == 3, got)
        check("own count: SPF301 the calls of the function", got.get(("SPF301", 10, 5)) == 7, got)
        rc, so, se = run([SPIPFIX, "--trace-profile", prof, "own"], d)
        check("own count: in the diagnostics", "own/own.py:4:12: SPF201" in so and
              [l for l in so.splitlines() if ":4:12: SPF201" in l][0].endswith("(executed 300 times)"), so)

        # counts identical to an independent counter (every instruction, each position, the calls),
        # on every interpreter built: exceptions, handlers, generators, await, one-line loops, threads
        write(d, "torture.py", TORTURE)
        for py in [PYTHON] + OTHER_PYTHONS:
            for script, args in (("torture.py", []), ("nested.py", ["40"]), ("builds.py", []), ("hot.py", []),
                                 ("warm.py", []), ("ext.py", [])):
                rc, so, se, data = trace_json(["--python", py, "-i", "ALL", "-f", script, script, *args], d)
                orc_out = os.path.join(d, "oracle.json")
                subprocess.run([py, ORACLE, orc_out, script, *args], cwd=d, capture_output=True, timeout=300)
                with open(orc_out) as f:
                    orc = json.load(f)
                mine = {}
                for r in (data or {}).get("by_position", []):
                    k = (r["line"], r["column"], r["end_line"], r["end_column"], r["instruction"])
                    mine[k] = mine.get(k, 0) + r["count"]
                theirs = {tuple(r[:5]): r[5] for r in orc["by_position"]}
                diff = {k: (mine.get(k), theirs.get(k)) for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k)}
                check(f"oracle {os.path.basename(py)} {script}: every instruction at every position",
                      rc == 0 and data["complete"] and not diff, f"rc={rc} {se[-500:]} {sorted(diff.items())[:8]}")
                check(f"oracle {os.path.basename(py)} {script}: total", data and data["total_instructions"] == orc["total"],
                      (data and data["total_instructions"], orc["total"]))
                mc = {(c["qualname"], c["firstlineno"]): c["calls"] for c in (data or {}).get("code_objects", [])
                      if c["calls"]}
                oc = {(q, l): n for q, l, n in orc["calls"]}
                check(f"oracle {os.path.basename(py)} {script}: calls", mc == oc, (mc, oc))
    return summary()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", required=True)
    SPIPFIX = os.path.abspath(ap.parse_args().spipfix)
    sys.exit(main())

"""Hot code first: `--min-executions` (the engine's cold stage, on the check path and from
[tool.spipfix]) and `spipfix optimize` (trace, hot findings, per-site estimate, A/B, diff, --fix).
The estimate is checked against the A/B to the same order of magnitude on a workload whose
saving is large next to the machine's noise. Run with Debian's /usr/bin/python3."""
import argparse
import json
import re
import os
import subprocess
import sys
import tempfile

from checks import check, summary

PYTHON = "/usr/bin/python3"

PKG = """\
import re

def words(s):
    return re.compile(r"\\w+").findall(s)

def key_of(items):
    def key(x):
        return -x
    return sorted(items, key=key)

def setup():
    f = lambda v: v + 1
    return f(1)
"""

WORK = """\
import os, sys, pkg
tree = os.environ.get("SPIPFIX_TREE")
if tree and not pkg.__file__.startswith(tree + os.sep):
    sys.exit("imported %s, not the tree under test %s" % (pkg.__file__, tree))
pkg.setup()
n = 0
for i in range(int(sys.argv[1])):
    n += len(pkg.words("a b c")) + len(pkg.key_of([3, 1]))
print(n)
"""


def run(cmd, cwd, env=None, timeout=600):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=timeout, env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def write(d, name, text):
    path = os.path.join(d, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    with tempfile.TemporaryDirectory() as d:
        write(d, "src/pkg/__init__.py", PKG)
        write(d, "work.py", WORK)
        env = dict(os.environ, PYTHONPATH=os.path.join(d, "src"))
        trace = os.path.join(d, "t.json")
        rc, so, se = run([SPIPFIX, "trace", "--format", "json", "-o", trace, "-f", "*/src/pkg/*", "work.py", "3000"],
                         d, env)
        check("trace of the workload", rc == 0 and os.path.exists(trace), se)

        # --min-executions on the check path: the cold finding keeps its count and loses its fix
        rc, so, se = run([SPIPFIX, "--diff", "--trace-profile", trace, "--min-executions", "1000", "src"], d)
        check("min-executions: the hot fixes in the diff", "_WORD_RE = re.compile" in so and
              "_key_of_key" in so, so)
        check("min-executions: not the cold one", "lambda v: v + 1" not in so.split("@@")[-1] or
              "-    f = lambda" not in so, so)
        cold = [l for l in se.splitlines() if ":12:9: SPF101" in l]
        check("min-executions: the cold finding is reported with its count and why",
              cold and "no fix: cold: ran 1 time in the trace, fewer than --min-executions 1000" in cold[0] and
              cold[0].endswith("(executed once)"), se)
        rc, so, se = run([SPIPFIX, "--diff", "--trace-profile", trace, "--min-executions", "5000", "src"], d)
        check("min-executions above every count: no diff", rc == 0 and so == "", f"{rc} {so}")
        rc, so, se = run([SPIPFIX, "--diff", "--trace-profile", trace, "src"], d)
        check("no threshold: every fix", "-    f = lambda v: v + 1" in so, so)
        rc, so, se = run([SPIPFIX, "--diff", "--min-executions", "10", "src"], d)
        check("min-executions without a trace is a usage error", rc == 2 and "--trace-profile" in se, f"{rc} {se}")
        rc, so, se = run([SPIPFIX, "--diff", "--trace-profile", trace, "--min-executions", "-3", "src"], d)
        check("a negative threshold is a usage error", rc == 2 and "--min-executions" in se, f"{rc} {se}")
        rc, so, se = run([SPIPFIX, "--format", "json", "--trace-profile", trace, "--min-executions", "1000", "src"], d)
        got = {(f["code"], f["location"]["row"]): (f["fix"], f["spipfix"]["executions"], f["spipfix"]["reason"])
               for f in json.loads(so)}
        check("min-executions in JSON: cold has no fix, its count and reason",
              got[("SPF101", 12)][0] is None and got[("SPF101", 12)][1] == 1 and
              got[("SPF101", 12)][2].startswith("cold:") and got[("SPF201", 4)][0] is not None, got)
        # the estimated saving with a trace: executions x a per-rule time, none for a withheld fix, summed
        est = {(f["code"], f["location"]["row"]): (f["spipfix"]["estimated_saving_ns"], f["spipfix"]["executions"])
               for f in json.loads(so)}
        check("estimate in JSON: executions x a positive time per execution; none for the cold",
              est[("SPF201", 4)][0] > 0 and est[("SPF201", 4)][1] == 3000 and est[("SPF101", 12)][0] == 0, est)
        rc, so, se = run([SPIPFIX, "--trace-profile", trace, "src"], d)
        line = [l for l in so.splitlines() if l.startswith("Estimated saving of the fixes over the traced run: ")]
        rc2, so2, se2 = run([SPIPFIX, "--format", "json", "--trace-profile", trace, "src"], d)
        total = sum(f["spipfix"]["estimated_saving_ns"] for f in json.loads(so2) if f["fix"] and
                    f["fix"]["applicability"] == "safe")
        shown = float(line[0].split(": ")[1].split()[0]) * {"ns": 1, "us": 1e3, "ms": 1e6}[line[0].split(": ")[1].split()[1]] \
            if line else None
        check("estimate summed in the summary", shown is not None and abs(shown - total) <= 0.05 * total, (line, total))
        check("estimate in the diagnostic", "(fix saves ~" in [l for l in so.splitlines() if ":4:12: SPF201" in l][0], so)

        # a later fix round (the hoist inside a def that the first round lifts): hot stays hot, cold cold
        write(d, "r2/m.py", "import re\n\ndef outer(s):\n    def inner(t):\n        return re.compile(\"a+\").match(t)\n"
              "    return inner(s)\n\ndef other(s):\n    def inner2(t):\n        return re.compile(\"b+\").match(t)\n"
              "    return inner2(s)\n\nfor i in range(50):\n    outer('aa')\nfor i in range(500):\n    other('b')\n")
        t2 = os.path.join(d, "t2.json")
        run([SPIPFIX, "trace", "--format", "json", "-o", t2, "r2/m.py"], d)
        rc, so, se = run([SPIPFIX, "--diff", "--trace-profile", t2, "--min-executions", "100", "r2/m.py"], d)
        check("later round: the hot hoist inside a lifted def is applied",
              re.search(r'^\+(_\w+_RE) = re\.compile\("b\+"\)$', so, re.M) is not None and
              re.search(r"^\+    return _\w+_RE\.match\(t\)$", so, re.M) is not None, so)
        check("later round: the cold ones are not", '= re.compile("a+")' not in so and "-    def inner(t):" not in so, so)

        # the key in [tool.spipfix]; the command line wins
        proj = os.path.join(d, "proj")
        write(proj, "pyproject.toml", "[tool.spipfix]\nmin-executions = 1000\n")
        write(proj, "src/pkg/__init__.py", PKG)
        ptrace = os.path.join(d, "pt.json")
        run([SPIPFIX, "trace", "--format", "json", "-o", ptrace, "-f", "*/proj/src/pkg/*", os.path.join(d, "work.py"),
             "3000"], proj, dict(os.environ, PYTHONPATH=os.path.join(proj, "src")))
        rc, so, se = run([SPIPFIX, "--diff", "--no-cache", "--trace-profile", ptrace, "src"], proj)
        check("min-executions from pyproject.toml", "_WORD_RE" in so and "-    f = lambda" not in so, so + se)
        rc, so, se = run([SPIPFIX, "--diff", "--no-cache", "--trace-profile", ptrace, "--min-executions", "0", "src"], proj)
        check("the command line wins over pyproject.toml", "-    f = lambda" in so, so)
        rc, so, se = run([SPIPFIX, "--diff", "--no-cache", "src"], proj)
        check("min-executions from pyproject.toml without a trace: no effect", "-    f = lambda" in so and rc == 1,
              f"{rc} {se}")
        write(proj, "pyproject.toml", "[tool.spipfix]\nmin-executions = \"many\"\n")
        rc, so, se = run([SPIPFIX, "--diff", "--no-cache", "src"], proj)
        check("min-executions of the wrong type is an error naming the key", rc == 2 and "min-executions" in se,
              f"{rc} {se}")

        # spipfix optimize: the loop, on a workload whose hot fixes save much more than the noise
        cmd = f"{PYTHON} {os.path.join(d, 'work.py')} 200000"
        rc, so, se = run([SPIPFIX, "optimize", "--min-executions", "1000", "--json", "-r", "5", cmd, "src/pkg"], d, env)
        check("optimize: exit 0", rc == 0, f"{rc} {se}")
        rep = json.loads(so) if rc == 0 else {}
        sites = {(s["code"], s["row"]): s for s in rep.get("sites", [])}
        check("optimize: the hot sites with their executions",
              set(sites) == {("SPF201", 4), ("SPF101", 7)} and
              all(s["executions"] == 200000 for s in sites.values()), sites)
        check("optimize: each hot site timed by bench", all(s["measured"] and s["saved_ns_per_execution"] > 0
                                                            for s in sites.values()), sites)
        check("optimize: the estimate is executions x saved per execution",
              all(abs(s["estimated_saving_ms"] - s["executions"] * s["saved_ns_per_execution"] / 1e6) <
                  1e-4 * s["estimated_saving_ms"] for s in sites.values()) and
              abs(rep["estimated_saving_ms"] - sum(s["estimated_saving_ms"] for s in sites.values())) <
              1e-4 * rep["estimated_saving_ms"], rep)
        ab = rep.get("ab", {})
        check("optimize: the A/B applied the two hot fixes, not the cold one", ab.get("fixes_applied") == 2, ab)
        measured = ab.get("cpu_saved_s", 0) * 1e3  # CPU time: what the load of the machine disturbs least
        est = rep.get("estimated_saving_ms", 0)
        check("optimize: estimate and measured saving agree to an order of magnitude",
              measured > 0 and 0.1 <= est / measured <= 10, f"estimate {est:.1f} ms, measured {measured:.1f} ms")
        check("optimize: the cold finding counted", rep.get("cold") == 1, rep.get("cold"))
        rc, so, se = run([SPIPFIX, "optimize", "--trace", trace, "-r", "0", cmd, "src/pkg"], d, env)
        check("optimize --trace, no A/B: table and diff", rc == 1 and "est. saving" in so and
              "+_WORD_RE = re.compile" in so and "-    f = lambda" not in so and "A/B" not in so, f"{rc} {so} {se}")
        check("optimize: the source is unchanged without --fix", open(os.path.join(d, "src/pkg/__init__.py")).read() == PKG)
        rc, so, se = run([SPIPFIX, "optimize", "--trace", trace, "-r", "0", "--fix", cmd, "src/pkg"], d, env)
        text = open(os.path.join(d, "src/pkg/__init__.py")).read()
        check("optimize --fix: the hot fixes applied, the cold one not", rc == 0 and "_WORD_RE" in text and
              "f = lambda v: v + 1" in text, f"{rc} {se} {text}")
        rc2, so2, se2 = run([PYTHON, "work.py", "10"], d, env)
        check("optimize --fix: the workload still runs, same output", rc2 == 0 and so2 == "50\n", so2 + se2)
        rc, so, se = run([SPIPFIX, "optimize", f"{PYTHON} -c 'import sys; sys.exit(3)'", "src/pkg"], d, env)
        check("optimize: a failing command is an error", rc == 2 and "failed" in se, f"{rc} {se}")
        rc, so, se = run([SPIPFIX, "optimize", cmd], d, env)
        check("optimize: COMMAND and PATH are needed", rc == 2, f"{rc}")
    return summary()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", required=True)
    SPIPFIX = os.path.abspath(ap.parse_args().spipfix)
    sys.exit(main())

"""The overhead of `spipfix trace`: one workload with a known count of nested-def executions,
timed in one run (interleaved, best of --repeat; the Python counter once) untraced, under `spipfix trace`, and under a
pure-Python counter with a callback per instruction (tests/trace_oracle.py: sys.settrace opcode
events on 3.11, sys.monitoring INSTRUCTION events on 3.12+, as the field's tool does) that counts
the same instructions, for each interpreter given. Both counters must give the known count, and
the same count for every instruction at every position.

    /usr/bin/python3 bench/trace_overhead.py [--spipfix build/spipfix] [--python PATH ...]
                                             [--calls 200000] [--repeat 5]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "tests", "trace_oracle.py")
PYTHONS = ["/usr/bin/python3", "/root/.pyenv/versions/3.12.1/bin/python3.12",
           "/root/.pyenv/versions/3.13.0/bin/python3.13"]

# outer() builds `inner` once per call (line 3) and a lambda per element of a comprehension of
# 4 (line 5); the counts are known by construction.
WORKLOAD = """\
import sys
def outer(n):
    def inner(x):
        return x + 1
    ys = [(lambda v: v * 2)(i) for i in range(4)]
    return inner(n) + sum(ys)
N = int(sys.argv[1])
total = 0
for i in range(N):
    total += outer(i)
print(total)
"""


def timed(cmd, cwd):
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode()}")
    return dt, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", default=os.path.join(HERE, "..", "build", "spipfix"))
    ap.add_argument("--python", action="append", help="interpreter (repeatable; default: 3.11, 3.12, 3.13)")
    ap.add_argument("--calls", type=int, default=200000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    spipfix = os.path.abspath(a.spipfix)
    pythons = a.python or [p for p in PYTHONS if os.path.exists(p)]
    ok = True
    with tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "workload.py")
        with open(script, "w") as f:
            f.write(WORKLOAD)
        print(f"workload: outer() called {a.calls} times; `def inner` executes {a.calls} times; "
              f"best of {a.repeat}, interleaved")
        print(f"{'':44} {'wall s':>8} {'x untraced':>10} {'inner defs':>10} {'instructions':>12}")
        for py in pythons:
            ver = subprocess.run([py, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True,
                                 text=True).stdout.strip()
            c_json, p_json = os.path.join(d, "c.json"), os.path.join(d, "p.json")
            runs = {
                "untraced": [py, script, str(a.calls)],
                "spipfix trace": [spipfix, "trace", "--python", py, "--format", "json", "-o", c_json,
                                  "-i", "ALL", "-f", "workload.py", script, str(a.calls)],
                "Python counter (a callback per instruction)": [py, ORACLE, p_json, script, str(a.calls)],
            }
            best = {k: float("inf") for k in runs}
            outs = {}
            for i in range(a.repeat):
                for name, cmd in runs.items():
                    if i and name.startswith("Python counter"):
                        continue  # 50 to 170 times slower: timed once
                    dt, out = timed(cmd, d)
                    best[name] = min(best[name], dt)
                    outs[name] = out
            if len(set(outs.values())) != 1:
                sys.exit(f"the workload's output differs between runs: {outs}")
            with open(c_json) as f:
                c = json.load(f)
            with open(p_json) as f:
                p = json.load(f)
            mine = {}
            for r in c["by_position"]:
                k = (r["line"], r["column"], r["end_line"], r["end_column"], r["instruction"])
                mine[k] = mine.get(k, 0) + r["count"]
            theirs = {tuple(r[:5]): r[5] for r in p["by_position"]}
            inner_c = sum(n for k, n in mine.items() if k[0] == 3 and k[4] == "MAKE_FUNCTION")
            inner_p = sum(n for k, n in theirs.items() if k[0] == 3 and k[4] == "MAKE_FUNCTION")
            base = best["untraced"]
            print(f"Python {ver} ({py})")
            for name in runs:
                ratio = best[name] / base
                inner = {"untraced": "-", "spipfix trace": inner_c}.get(name, inner_p)
                instr = {"untraced": "-", "spipfix trace": c["total_instructions"]}.get(name, p["total"])
                print(f"  {name:42} {best[name]:8.3f} {ratio:10.2f} {inner:>10} {instr:>12}")
            same = mine == theirs and c["total_instructions"] == p["total"] and inner_c == inner_p == a.calls
            print("  counts: " + ("identical at every position, and equal to the known count" if same else
                                  f"DIFFER: {sorted((k, mine.get(k), theirs.get(k)) for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))[:5]}"))
            ok = ok and same
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

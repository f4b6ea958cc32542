"""The overhead of `spipfix trace`: one workload with a known count of nested-def executions,
timed in one run (interleaved, best of --repeat) untraced under /usr/bin/python3, under
`spipfix trace`, and under a pure-Python opcode counter (sys.settrace with f_trace_opcodes,
written below) that counts the same instructions. Both counters must give the known count.

    /usr/bin/python3 bench/trace_overhead.py [--spipfix build/spipfix] [--calls 200000] [--repeat 3]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

PYTHON = "/usr/bin/python3"

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

# A pure-Python counter of executed opcodes: the same events as spipfix's C tracer (opcode events
# of frames from the counted file), named by their base opcode (co_code is deoptimised), an
# EXTENDED_ARG counted as the instruction it extends.
PYCOUNT = r"""
import dis, json, opcode, sys
TRACKED = {opcode.opmap[n] for n in
           ("MAKE_FUNCTION", "BUILD_TUPLE", "BUILD_LIST", "BUILD_SET", "BUILD_MAP", "LOAD_DEREF")}
EXT = opcode.opmap["EXTENDED_ARG"]
out_path, script = sys.argv[1], sys.argv[2]
sys.argv = sys.argv[2:]
counts = {}
total = 0
lines_of = {}

def line_of(code, off):
    table = lines_of.get(code)
    if table is None:
        table = lines_of[code] = {}
        for start, end, line in code.co_lines():
            for o in range(start, end, 2):
                table[o] = line
    return table.get(off)

def local(frame, event, arg):
    global total
    if event == "opcode":
        total += 1
        code = frame.f_code
        b = code.co_code
        off = frame.f_lasti
        while b[off] == EXT:
            off += 2
        op = b[off]
        if op in TRACKED:
            key = (line_of(code, off), opcode.opname[op])
            counts[key] = counts.get(key, 0) + 1
    return local

def on_call(frame, event, arg):
    if frame.f_code.co_filename != script:
        return None
    frame.f_trace_opcodes = True
    frame.f_trace_lines = False
    return local

with open(script) as f:
    code = compile(f.read(), script, "exec")
sys.settrace(on_call)
try:
    exec(code, {"__name__": "__main__", "__file__": script})
finally:
    sys.settrace(None)
    with open(out_path, "w") as f:
        json.dump({"total": total, "rows": [[l, op, n] for (l, op), n in counts.items()]}, f)
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
    ap.add_argument("--spipfix", default=os.path.join(os.path.dirname(__file__), "..", "build", "spipfix"))
    ap.add_argument("--calls", type=int, default=200000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    spipfix = os.path.abspath(a.spipfix)
    with tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "workload.py")
        with open(script, "w") as f:
            f.write(WORKLOAD)
        with open(os.path.join(d, "pycount.py"), "w") as f:
            f.write(PYCOUNT)
        runs = {
            "untraced /usr/bin/python3": [PYTHON, script, str(a.calls)],
            "spipfix trace": [spipfix, "trace", "--format", "json", "-o", os.path.join(d, "c.json"),
                              "-f", "workload.py", script, str(a.calls)],
            "sys.settrace counter (Python)": [PYTHON, os.path.join(d, "pycount.py"), os.path.join(d, "py.json"),
                                              script, str(a.calls)],
        }
        best = {k: float("inf") for k in runs}
        outs = {}
        for _ in range(a.repeat):
            for name, cmd in runs.items():
                dt, out = timed(cmd, d)
                best[name] = min(best[name], dt)
                outs[name] = out
        if len(set(outs.values())) != 1:
            sys.exit(f"the workload's output differs between runs: {outs}")
        with open(os.path.join(d, "c.json")) as f:
            c = json.load(f)
        with open(os.path.join(d, "py.json")) as f:
            p = json.load(f)
        c_rows = {(r["line"], r["instruction"]): r["count"] for r in c["by_location"]}
        p_rows = {(l, op): n for l, op, n in p["rows"]}
        inner_c, inner_p = c_rows.get((3, "MAKE_FUNCTION")), p_rows.get((3, "MAKE_FUNCTION"))
        base = best["untraced /usr/bin/python3"]
        print(f"workload: outer() called {a.calls} times; `def inner` executes {a.calls} times; "
              f"best of {a.repeat}, interleaved; Python {sys.version.split()[0]}")
        print(f"{'':32} {'wall s':>8} {'x untraced':>10} {'inner defs':>10} {'instructions':>12}")
        print(f"{'untraced /usr/bin/python3':32} {base:8.3f} {1.0:10.1f} {'-':>10} {'-':>12}")
        print(f"{'spipfix trace':32} {best['spipfix trace']:8.3f} {best['spipfix trace'] / base:10.1f} "
              f"{inner_c:>10} {c['total_instructions']:>12}")
        name = "sys.settrace counter (Python)"
        print(f"{name:32} {best[name]:8.3f} {best[name] / base:10.1f} {inner_p:>10} {p['total']:>12}")
        print(f"spipfix trace vs the Python counter: {best[name] / best['spipfix trace']:.1f}x faster")
        ok = inner_c == inner_p == a.calls and c_rows == p_rows and c["total_instructions"] == p["total"]
        print("counts: " + ("identical, and equal to the known count" if ok else
                            f"DIFFER: spipfix {c_rows} total {c['total_instructions']} vs python {p_rows} total {p['total']}"))
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

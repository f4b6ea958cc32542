"""`spipfix bench` on the golden inputs under bench/cases/, next to an independent timeit run of
the same two snippets (written out by hand in each case's reference.toml), in one session.

    /usr/bin/python3 bench/bench_cases.py [--spipfix build/spipfix] [--rounds 5] [--sessions 3]
                                          [CASE_DIR...]

Both sides report medians of alternating before/after rounds, in ns per run of the snippet (the
for loop around it included, as timeit reports it), with the cyclic GC off (timeit's default).
The two are interleaved: each session runs `spipfix bench` on a case, then timeit on its
reference, so that a change in the machine's load hits both; medians are over all rounds of all
sessions. Rows of other rules in the same input (a hoisted `range(10)`) are shown without a
reference.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import timeit
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))


def spipfix_rows(spipfix, path, rounds, round_ms):
    p = subprocess.run([spipfix, "bench", "--format", "json", "--rounds", str(rounds), "--round-time",
                        str(round_ms), path], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        sys.exit(f"spipfix bench {path} failed ({p.returncode}):\n{p.stderr}")
    return json.loads(p.stdout)["results"]


def make_timer(side):
    ns = {}
    exec(side.get("globals", ""), ns)
    return timeit.Timer(side["stmt"].strip(), side.get("setup", "pass"), globals=ns)


def timeit_rounds(before, after, n, rounds):
    b, a = [], []
    for i in range(rounds):
        first, second = (before, after) if i % 2 == 0 else (after, before)
        t1 = first.timeit(n) / n * 1e9
        t2 = second.timeit(n) / n * 1e9
        b.append(t1 if i % 2 == 0 else t2)
        a.append(t2 if i % 2 == 0 else t1)
    return b, a


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spipfix", default=os.path.join(HERE, "..", "build", "spipfix"))
    ap.add_argument("--rounds", type=int, default=5, help="rounds per session (default 5)")
    ap.add_argument("--sessions", type=int, default=3, help="interleaved sessions (default 3)")
    ap.add_argument("--round-time", type=float, default=20.0, help="ms per round (default 20)")
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    cases = args.cases or sorted(os.path.join(HERE, "cases", c) for c in os.listdir(os.path.join(HERE, "cases")))
    head = (f"{'case':<20} {'code':<14} {'spipfix before':>14} {'after':>7} {'saved':>7} {'x/call':>6}   "
            f"{'timeit before':>13} {'after':>7} {'saved':>7}   {'saved ratio':>11}")
    print(head)
    print("-" * len(head))
    for case in cases:
        name = os.path.basename(os.path.normpath(case))
        with open(os.path.join(case, "reference.toml"), "rb") as f:
            ref = tomllib.load(f)
        before, after = make_timer(ref["before"]), make_timer(ref["after"])
        n, t = before.autorange()
        n = max(1, int(n * (args.round_time / 1e3) / t))
        rows, tb, ta = {}, [], []
        for _ in range(args.sessions):
            for r in spipfix_rows(args.spipfix, os.path.join(case, "input.py"), args.rounds, args.round_time):
                key = (r["row"], r["code"])
                acc = rows.setdefault(key, {"r": r, "b": [], "a": []})
                acc["b"] += r.get("before_rounds_ns", [])
                acc["a"] += r.get("after_rounds_ns", [])
            b, a = timeit_rounds(before, after, n, args.rounds)
            tb += b
            ta += a
        tb, ta = statistics.median(tb), statistics.median(ta)
        for (row, code), acc in sorted(rows.items()):
            r = acc["r"]
            mine = ref["code"] in code.split(",")
            ref_cols = f"{tb:13.1f} {ta:7.1f} {tb - ta:7.1f}" if mine else f"{'':13} {'':7} {'':7}"
            if "skipped" in r:
                print(f"{name:<20} {code:<14} {'-':>14} {'-':>7} {'-':>7} {'-':>6}   {ref_cols}   "
                      f"not timed: {r['skipped']}")
                continue
            sb, sa = statistics.median(acc["b"]), statistics.median(acc["a"])
            per = r["per_call"] or "?"
            ratio = f"{(sb - sa) / (tb - ta):11.2f}" if mine else ""
            print(f"{name:<20} {code:<14} {sb:14.1f} {sa:7.1f} {sb - sa:7.1f} {per:>6}   {ref_cols}   {ratio}")
    print(f"\nns per run; medians of {args.sessions} x {args.rounds} alternating rounds of ~{args.round_time:g} ms "
          "on each side; saved ratio = spipfix saved / timeit saved.")


if __name__ == "__main__":
    main()

"""`spipfix bench` on the golden inputs under bench/cases/, next to an independent timeit run of
the same two snippets (written out by hand in each case's reference.toml), in one session.

    /usr/bin/python3 bench/bench_cases.py [--spipfix build/spipfix] [--rounds 9] [CASE_DIR...]

Both sides report medians of alternating before/after rounds, in ns per run of the snippet (the
for loop around it included, as timeit reports it), with the cyclic GC off (timeit's default).
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


def timeit_pair(ref, rounds, round_ms):
    before, after = make_timer(ref["before"]), make_timer(ref["after"])
    n, t = before.autorange()
    n = max(1, int(n * (round_ms / 1e3) / t))
    b, a = [], []
    for i in range(rounds):
        first, second = (before, after) if i % 2 == 0 else (after, before)
        t1 = first.timeit(n) / n * 1e9
        t2 = second.timeit(n) / n * 1e9
        b.append(t1 if i % 2 == 0 else t2)
        a.append(t2 if i % 2 == 0 else t1)
    return statistics.median(b), statistics.median(a)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spipfix", default=os.path.join(HERE, "..", "build", "spipfix"))
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--round-time", type=float, default=20.0, help="ms per round (default 20)")
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    cases = args.cases or sorted(os.path.join(HERE, "cases", c) for c in os.listdir(os.path.join(HERE, "cases")))
    head = (f"{'case':<20} {'code':<14} {'spipfix before':>14} {'after':>7} {'saved':>7} {'x/call':>6}   "
            f"{'timeit before':>13} {'after':>7} {'saved':>7}   {'saved: spipfix/timeit':>21}")
    print(head)
    print("-" * len(head))
    for case in cases:
        name = os.path.basename(os.path.normpath(case))
        with open(os.path.join(case, "reference.toml"), "rb") as f:
            ref = tomllib.load(f)
        rows = spipfix_rows(args.spipfix, os.path.join(case, "input.py"), args.rounds, args.round_time)
        tb, ta = timeit_pair(ref, args.rounds, args.round_time)
        timed = [r for r in rows if "before_ns" in r]
        if not timed:
            why = rows[0]["skipped"] if rows else "no finding with a fix (is its pass built in?)"
            print(f"{name:<20} {'-':<14} {'-':>14} {'-':>7} {'-':>7} {'-':>6}   "
                  f"{tb:13.1f} {ta:7.1f} {tb - ta:7.1f}   {why}")
            continue
        for r in timed:
            per = r["per_call"] or "?"
            print(f"{name:<20} {r['code']:<14} {r['before_ns']:14.1f} {r['after_ns']:7.1f} {r['saved_ns']:7.1f} "
                  f"{per:>6}   {tb:13.1f} {ta:7.1f} {tb - ta:7.1f}   {r['saved_ns'] / (tb - ta):21.2f}"
                  + ("  (spipfix: within the noise)" if r["within_noise"] else ""))
    print(f"\nns per run; medians of {args.rounds} alternating rounds of ~{args.round_time:g} ms on each side.")


if __name__ == "__main__":
    main()

"""What a lifted function's uses cost at the site: an alias kept in the enclosing function
(`inner = _outer_inner`: a global load and a store per call, then a local load per use) against
direct references (a global load per use). Prints the median per-call time of each form for 1-4
uses and the median of the paired differences, rounds alternating as `spipfix bench` does.

    /usr/bin/python3 bench/alias_vs_direct.py [--rounds 15]
"""
import argparse
import statistics
import timeit

SRC = """
def _outer_inner(x):
    return x

def direct_{k}():
    return ({direct})

def alias_{k}():
    inner = _outer_inner
    return ({alias})

def direct_loop():
    for _ in range(100):
        _outer_inner

def alias_loop():
    inner = _outer_inner
    for _ in range(100):
        inner
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--number", type=int, default=500_000)
    a = ap.parse_args()
    print(f"{'uses':>4} {'direct ns':>10} {'alias ns':>9} {'alias - direct':>15}")
    for k in range(1, 5):
        ns = {}
        exec(SRC.format(k=k, direct=", ".join(["_outer_inner"] * k) + ",",
                        alias=", ".join(["inner"] * k) + ","), ns)
        d, al = ns[f"direct_{k}"], ns[f"alias_{k}"]
        td, ta, diff = [], [], []
        for _ in range(a.rounds):
            x = timeit.timeit(d, number=a.number) / a.number * 1e9
            y = timeit.timeit(al, number=a.number) / a.number * 1e9
            td.append(x)
            ta.append(y)
            diff.append(y - x)
        print(f"{k:>4} {statistics.median(td):>10.2f} {statistics.median(ta):>9.2f} "
              f"{statistics.median(diff):>+15.2f}")
    # one use inside a loop of 100 iterations: a global load per iteration against a local load
    d, al = ns["direct_loop"], ns["alias_loop"]
    diff = []
    for _ in range(a.rounds):
        x = timeit.timeit(d, number=a.number // 20) / (a.number // 20) * 1e9
        y = timeit.timeit(al, number=a.number // 20) / (a.number // 20) * 1e9
        diff.append(y - x)
    print(f"loop of 100: alias - direct {statistics.median(diff):+.2f} ns per call")


if __name__ == "__main__":
    main()

"""Compare two runs of a test suite from their JUnit XML files (CPython's regrtest --junit-xml,
pytest --junitxml): the counts of each side and every test case whose outcome differs.

    /usr/bin/python3 bench/suite_compare.py ORIGINAL.xml FIXED.xml [--label-a original --label-b fixed]

Exit status: 0 when every test case has the same outcome on both sides, 1 otherwise (a case that
passes on the original side and not on the fixed one is a behaviour change to explain)."""
import argparse
import collections
import sys
import xml.etree.ElementTree as ET


def outcomes(path):
    """{(suite, classname, name): outcome} with outcome one of pass, fail, error, skip."""
    tree = ET.parse(path)
    out = {}
    for suite in tree.iter("testsuite"):
        sname = suite.get("name") or ""
        for case in suite.findall("testcase"):
            key = (sname, case.get("classname") or "", case.get("name") or "")
            kinds = {c.tag for c in case}
            if "error" in kinds:
                o = "error"
            elif "failure" in kinds:
                o = "fail"
            elif "skipped" in kinds:
                o = "skip"
            else:
                o = "pass"
            # a name seen twice (parametrised duplicates): keep the worst
            rank = {"pass": 0, "skip": 1, "fail": 2, "error": 3}
            if key not in out or rank[o] > rank[out[key]]:
                out[key] = o
    return out


def counts(res):
    c = collections.Counter(res.values())
    return f"{len(res)} cases: {c['pass']} passed, {c['fail']} failed, {c['error']} errors, {c['skip']} skipped"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--label-a", default="original")
    ap.add_argument("--label-b", default="fixed")
    args = ap.parse_args()
    a, b = outcomes(args.a), outcomes(args.b)
    print(f"{args.label_a}: {counts(a)}")
    print(f"{args.label_b}: {counts(b)}")
    diffs = []
    for key in sorted(set(a) | set(b)):
        oa, ob = a.get(key, "absent"), b.get(key, "absent")
        if oa != ob:
            diffs.append((key, oa, ob))
    worse = [d for d in diffs if d[1] == "pass"]
    print(f"cases with another outcome: {len(diffs)} ({len(worse)} passed on {args.label_a} only)")
    for (suite, cls, name), oa, ob in diffs[:200]:
        print(f"  {args.label_a}={oa:6} {args.label_b}={ob:6} {cls}.{name}")
    if len(diffs) > 200:
        print(f"  ... {len(diffs) - 200} more")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())

"""SPF101/SPF102 counts on a tree, split by fix applicability, next to an independent walk of the
code objects that Debian's CPython compiles from the same files (the design's definition: a def
or lambda code object directly inside a function-like code object -- a def, a lambda, or a
comprehension inside a function -- with empty co_freevars; SPF102: its MAKE_FUNCTION inside a
loop). Files that spipfix reports as errors are left out of both counts.

    /usr/bin/python3 bench/count_spf101.py [--spipfix build/spipfix] TREE...
"""
import argparse
import collections
import dis
import os
import re
import subprocess
import sys
import warnings

COMPS = {"<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"}


def function_like(chain):
    """chain: code objects from the module down to the parent."""
    for co in reversed(chain):
        if co.co_name in COMPS:
            continue
        return bool(co.co_flags & 0x1) and co is not chain[0]  # CO_OPTIMIZED, not the module
    return False


def loops(co):
    ranges = []
    for ins in dis.get_instructions(co):
        if ins.opname in ("JUMP_BACKWARD",) or ins.opname.startswith("POP_JUMP_BACKWARD"):
            ranges.append((ins.argval, ins.offset))
    return ranges


def walk(co, chain, out):
    chain = chain + [co]
    rng = None
    for c in co.co_consts:
        if not hasattr(c, "co_code"):
            continue
        if c.co_name not in COMPS and (c.co_flags & 0x1) and function_like(chain):
            if rng is None:
                rng = loops(co)
                sites = {}
                prev = None
                for ins in dis.get_instructions(co):
                    if ins.opname == "MAKE_FUNCTION" and prev is not None and prev.opname == "LOAD_CONST":
                        sites[id(prev.argval)] = ins.offset
                    prev = ins
            if not c.co_freevars:
                out["SPF101"] += 1
            off = sites.get(id(c))
            if off is not None and any(t <= off < j for t, j in rng):
                out["SPF102"] += 1
        walk(c, chain, out)


def independent(path):
    with open(path, "rb") as f:
        src = f.read()
    if src.startswith(b"\xef\xbb\xbf"):
        src = src[3:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        co = compile(src, path, "exec", dont_inherit=True)
    out = collections.Counter()
    walk(co, [], out)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", default="build/spipfix")
    ap.add_argument("trees", nargs="+")
    a = ap.parse_args()
    for tree in a.trees:
        p = subprocess.run([a.spipfix, "--check", tree], capture_output=True, text=True, errors="replace")
        bad = set(re.findall(r"^error: (.+?\.py)[:]", p.stderr, re.M))
        per_file = collections.defaultdict(collections.Counter)
        split = collections.Counter()
        for line in p.stdout.splitlines():
            m = re.match(r"(.+?\.py):\d+:\d+: (SPF10[12]) ", line)
            if not m:
                continue
            per_file[m.group(1)][m.group(2)] += 1
            if m.group(2) == "SPF101":
                split["safe" if line.endswith("[*]") else "unsafe" if "(unsafe fix:" in line else "none"] += 1
        files = []
        for d, dirs, fs in os.walk(tree):
            dirs[:] = sorted(x for x in dirs if x not in {".git", "__pycache__", "build", "dist", "site-packages"}
                             and not os.path.exists(os.path.join(d, x, "pyvenv.cfg")))
            files += [os.path.join(d, f) for f in fs if f.endswith(".py")]
        tot = collections.Counter()
        mismatch = []
        for f in files:
            if f in bad:
                continue
            try:
                ind = independent(f)
            except (SyntaxError, ValueError):
                continue
            tot.update(ind)
            for k in ("SPF101", "SPF102"):
                if ind[k] != per_file[f][k]:
                    mismatch.append(f"{f}: {k} spipfix {per_file[f][k]} vs code objects {ind[k]}")
        s101 = sum(c["SPF101"] for c in per_file.values())
        s102 = sum(c["SPF102"] for c in per_file.values())
        print(f"{tree}: {len(files)} files, {len(bad)} not analysed")
        print(f"  SPF101 {s101} (safe {split['safe']}, unsafe {split['unsafe']}, none {split['none']}); "
              f"independent walk {tot['SPF101']}")
        print(f"  SPF102 {s102}; independent walk {tot['SPF102']}")
        for m in mismatch[:20]:
            print("  mismatch", m)
        if len(mismatch) > 20:
            print(f"  ... {len(mismatch) - 20} more mismatches")


if __name__ == "__main__":
    sys.exit(main())

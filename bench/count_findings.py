"""Finding counts on a tree, per rule and split by fix applicability (safe / unsafe / none), next
to an independent walk of the code objects that Debian's CPython compiles from the same files:
  SPF101  a def or lambda code object directly inside a function-like code object (a def, a
          lambda, or a comprehension inside a function) with empty co_freevars, whose
          MAKE_FUNCTION is not inside a loop (one finding per site: that one is SPF102's);
  SPF102  such a code object (closure or not) whose MAKE_FUNCTION lies inside a loop;
  SPF201  in a function-like code object, a CALL with n >= 1 arguments whose callee is a
          LOAD_GLOBAL followed only by LOAD_ATTR/LOAD_METHOD and whose arguments are n LOAD_CONST,
          counted once per source position (a `finally` body is compiled twice): the constant
          calls SPF201 chooses from (it reports the allow-listed pure, costly ones), so the check
          is spipfix <= walk per file, and the report gives the share SPF201 keeps.
SPF301 has no independent count: its definition is the proof itself. Also prints the ten most
frequent SPF201 callees. Files that spipfix reports as errors are left out of both counts; so is
test code (tests/, test/, test_*.py, *_test.py, conftest.py) unless --include-tests is given,
which is passed on to spipfix.

With --target-version pyXY, spipfix proves on that version and the walk runs under that
version's interpreter (--python, default Debian's python3.11 or pyenv's python3.12 / 3.13), on
its code objects: 3.12+ inlines list, set and dict comprehensions (no code object to walk
through), builds a generic def or class inside an annotation scope (`<generic parameters of
f>`, walked through like a comprehension), moves exception handlers after the code they protect
(a jump back from a handler is no loop), and 3.13 passes keyword names to CALL_KW and may push a
call's NULL after the callee's attribute load.

    /usr/bin/python3 bench/count_findings.py [--spipfix build/spipfix] [--include-tests]
                                             [--target-version py312] TREE...
"""
import argparse
import collections
import dis
import json
import os
import re
import subprocess
import sys
import warnings

COMPS = {"<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"}
INTERPRETERS = {"py311": "/usr/bin/python3.11", "py312": "/root/.pyenv/versions/3.12.1/bin/python3.12",
                "py313": "/root/.pyenv/versions/3.13.0/bin/python3.13"}


def transparent(co):
    """A code object that runs in the frame of the code around it, as far as these rules go: a
    comprehension, or (3.12+) the annotation scope that builds a generic def or class."""
    return co.co_name in COMPS or co.co_name.startswith("<generic parameters of ")


def function_like(chain):
    """chain: code objects from the module down to the parent."""
    for co in reversed(chain):
        if transparent(co):
            continue
        return bool(co.co_flags & 0x1) and co is not chain[0]  # CO_OPTIMIZED, not the module
    return False


def in_function(chain):
    """Does code in chain[-1] run in a function frame (a def, a lambda, or a comprehension
    inside one)?"""
    for co in reversed(chain):
        if co.co_name in COMPS:
            continue
        return bool(co.co_flags & 0x1) and co is not chain[0]
    return False


NO_FALLTHROUGH = {"JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "RETURN_VALUE", "RETURN_CONST",
                  "RAISE_VARARGS", "RERAISE"}


def warm_offsets(ins):
    """Offsets of the instructions reached from the entry without an exception (3.12+ moves
    exception handlers after the code they protect, and jumps back from them)."""
    at = {i.offset: k for k, i in enumerate(ins)}
    warm, todo = ({ins[0].offset}, [0]) if ins else (set(), [])
    while todo:
        k = todo.pop()
        i = ins[k]
        nxt = [] if i.opname in NO_FALLTHROUGH or k + 1 >= len(ins) else [k + 1]
        if i.opcode in dis.hasjrel and isinstance(i.argval, int):
            t = min((o for o in at if o >= i.argval), default=None)
            if t is not None:
                nxt.append(at[t])
        for n in nxt:
            if ins[n].offset not in warm:
                warm.add(ins[n].offset)
                todo.append(n)
    return warm


def loops(co):
    ranges = []
    ins = [i for i in dis.get_instructions(co) if i.opname != "EXTENDED_ARG"]
    warm = warm_offsets(ins) if sys.version_info >= (3, 12) else None
    for i in ins:
        if i.opname in ("JUMP_BACKWARD",) or i.opname.startswith("POP_JUMP_BACKWARD"):
            # 3.12+: a jump from an exception handler back into code run without one is no loop
            target = min((x.offset for x in ins if x.offset >= i.argval), default=None)
            if warm is not None and i.offset not in warm and target in warm:
                continue
            ranges.append((i.argval, i.offset))
    return ranges


def constant_calls(co):
    """SPF201 by the bytecode: CALL n preceded by [KW_NAMES] PRECALL n, n LOAD_CONST, and a
    LOAD_GLOBAL + attribute loads."""
    ins = [i for i in dis.get_instructions(co) if i.opname not in ("CACHE", "EXTENDED_ARG")]
    seen = set()  # a `finally` body is compiled twice: count each source call once
    for k, i in enumerate(ins):
        if i.opname not in ("CALL", "CALL_KW") or i.arg < 1:
            continue
        j = k - 1
        if i.opname == "CALL_KW" and j >= 0 and ins[j].opname == "LOAD_CONST":
            j -= 1  # 3.13: the keyword names, a tuple constant, right before CALL_KW
        if j >= 0 and ins[j].opname == "PRECALL":
            j -= 1
        if j >= 0 and ins[j].opname == "KW_NAMES":
            j -= 1
        consts = 0
        while j >= 0 and ins[j].opname == "LOAD_CONST" and consts < i.arg:
            consts += 1
            j -= 1
        if consts != i.arg:
            continue
        if j >= 0 and ins[j].opname == "PUSH_NULL":
            j -= 1  # 3.13: `os.system(...)` loads the attribute, then pushes the NULL
        while j >= 0 and ins[j].opname in ("LOAD_ATTR", "LOAD_METHOD"):
            j -= 1
        if j >= 0 and ins[j].opname == "LOAD_GLOBAL":
            seen.add(i.positions)
    return len(seen)


def walk(co, chain, out):
    chain = chain + [co]
    if in_function(chain):
        out["SPF201"] += constant_calls(co)
    rng = None
    for c in co.co_consts:
        if not hasattr(c, "co_code"):
            continue
        if not transparent(c) and (c.co_flags & 0x1) and function_like(chain):
            if rng is None:
                rng = loops(co)
                sites = {}
                prev = None
                for ins in dis.get_instructions(co):
                    if ins.opname == "MAKE_FUNCTION" and prev is not None and prev.opname == "LOAD_CONST":
                        sites[id(prev.argval)] = ins.offset
                    prev = ins
            off = sites.get(id(c))
            in_loop = off is not None and any(t <= off < j for t, j in rng)
            if not c.co_freevars and not in_loop:
                out["SPF101"] += 1
            if in_loop:
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


CODES = ("SPF101", "SPF102", "SPF201", "SPF301")


def is_test_code(path):
    """passes/testcode.c: a folder `tests` or `test` on the path, or test_*.py, *_test.py,
    conftest.py."""
    parts = path.split("/")
    base = parts[-1]
    return (base == "conftest.py" or (base.startswith("test_") and base.endswith(".py") and len(base) > 8)
            or (base.endswith("_test.py") and len(base) > 8) or any(p in ("test", "tests") for p in parts[:-1]))


def walk_files(files, python):
    """independent() of each file under `python` (this script run again there): {file: counts},
    without the files that interpreter cannot compile."""
    p = subprocess.run([python, os.path.abspath(__file__), "--walk"], input="\0".join(files), capture_output=True,
                       text=True)
    if p.returncode != 0:
        sys.exit(f"the walk under {python} failed:\n{p.stderr}")
    return {f: collections.Counter(c) for f, c in json.loads(p.stdout).items()}


def walk_main():
    out = {}
    for f in sys.stdin.read().split("\0"):
        if not f:
            continue
        try:
            out[f] = dict(independent(f))
        except (SyntaxError, ValueError):
            pass
    json.dump(out, sys.stdout)


def main():
    if sys.argv[1:] == ["--walk"]:
        return walk_main()
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", default="build/spipfix")
    ap.add_argument("--include-tests", action="store_true")
    ap.add_argument("--target-version", help="py311, py312 or py313: spipfix's and the walk's version")
    ap.add_argument("--python", help="the interpreter of the walk (default: the target version's)")
    ap.add_argument("trees", nargs="+")
    a = ap.parse_args()
    version_args = ["--target-version", a.target_version] if a.target_version else []
    python = a.python or INTERPRETERS.get(a.target_version or "py311")
    callees_all = collections.Counter()
    for tree in a.trees:
        flags = ["--include-tests"] if a.include_tests else []
        p = subprocess.run([a.spipfix, "--check", "--no-cache", *flags, *version_args, tree], capture_output=True,
                           text=True, errors="replace")
        bad = set(re.findall(r"^error: (.+?\.py)[:]", p.stderr, re.M))
        per_file = collections.defaultdict(collections.Counter)
        split = collections.defaultdict(collections.Counter)
        callees = collections.Counter()
        for line in p.stdout.splitlines():
            m = re.match(r"(.+?\.py):\d+:\d+: (SPF\d+) ", line)
            if not m:
                continue
            code = m.group(2)
            per_file[m.group(1)][code] += 1
            split[code]["safe" if line.endswith("[*]") else "unsafe" if "(unsafe fix:" in line else "none"] += 1
            c = re.search(r"Call `([\w.]+)\(", line)
            if code == "SPF201" and c:
                callees[c.group(1)] += 1
        files = [tree] if os.path.isfile(tree) else []
        for d, dirs, fs in os.walk(tree):
            dirs[:] = sorted(x for x in dirs if x not in {".git", "__pycache__", "build", "dist", "site-packages"}
                             and not os.path.exists(os.path.join(d, x, "pyvenv.cfg")))
            files += [os.path.join(d, f) for f in fs if f.endswith(".py")]
        tot = collections.Counter()
        mismatch = []
        todo = [f for f in files
                if not (f in bad or (not a.include_tests and is_test_code(os.path.relpath(f, tree) if f != tree else f)))]
        walked = walk_files(todo, python)
        for f in todo:
            if f not in walked:
                continue
            ind = walked[f]
            tot.update(ind)
            for k in ("SPF101", "SPF102", "SPF201"):
                if (ind[k] < per_file[f][k]) if k == "SPF201" else (ind[k] != per_file[f][k]):
                    mismatch.append(f"{f}: {k} spipfix {per_file[f][k]} vs code objects {ind[k]}")
        print(f"{tree}: {len(files)} files, {len(bad)} not analysed ({a.target_version or 'default target'}, walk "
              f"under {python})")
        for k in CODES:
            n = sum(c[k] for c in per_file.values())
            ind = f"; independent walk {tot[k]}" if k != "SPF301" else ""
            if k == "SPF201":
                ind = (f"; constant calls in the bytecode {tot[k]} (SPF201 keeps "
                       f"{100 * n / tot[k] if tot[k] else 0:.1f} %; {split[k]['safe']} of {n} with a safe fix)")
            print(f"  {k} {n} (safe {split[k]['safe']}, unsafe {split[k]['unsafe']}, none {split[k]['none']}){ind}")
        print("  SPF201 top callees: " + ", ".join(f"{c} {n}" for c, n in callees.most_common(10)))
        callees_all.update(callees)
        for m in mismatch[:20]:
            print("  mismatch", m)
        if len(mismatch) > 20:
            print(f"  ... {len(mismatch) - 20} more mismatches")
    if len(a.trees) > 1:
        print("all trees, SPF201 top callees: " + ", ".join(f"{c} {n}" for c, n in callees_all.most_common(10)))


if __name__ == "__main__":
    sys.exit(main())

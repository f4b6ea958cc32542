"""Find the hunk of a rewrite that makes a test fail: start from the pristine tree, apply the
fixed tree's changes file by file and then change by change (a lifted def or hoisted
constant together with the lines that use it), and keep halving until one hunk is
left whose change alone makes the command fail.

    /usr/bin/python3 bench/bisect_hunks.py --pristine P --fixed F --scratch S [--first FILE] -- COMMAND...

P and F are two trees that differ only by the rewrite (bench/validate_stdlib.sh leaves
WORK/pristine and WORK/fixed); S is made a copy of P and changed in place for each trial. COMMAND
runs with $TREE set to S and must exit 0 when the test passes (for the standard library:
env PYTHONHOME=S python3 -m test test_x). --first names a file (relative to the trees) to try
alone first, typically the test file itself. Prints each trial, then the file and the hunk (a
unified diff) whose change is enough to fail; exit status 0 when one was found, 1 when the
failure needs several changes together (each is listed), 2 when F does not fail at all."""
import argparse
import difflib
import filecmp
import os
import re
import shutil
import subprocess
import sys


def changed_files(p, f):
    out = []
    for dp, dirs, files in os.walk(f):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if not name.endswith(".py"):
                continue
            fp = os.path.join(dp, name)
            rel = os.path.relpath(fp, f)
            pp = os.path.join(p, rel)
            if os.path.exists(pp) and not filecmp.cmp(pp, fp, shallow=False):
                out.append(rel)
    return sorted(out)


class Trials:
    def __init__(self, args):
        self.args = args
        self.n = 0
        self.state = {}  # rel -> bytes currently written in the scratch tree

    def write(self, rel, data):
        if self.state.get(rel) == data:
            return
        with open(os.path.join(self.args.scratch, rel), "wb") as fh:
            fh.write(data)
        self.state[rel] = data

    def fails(self, contents, label):
        """Write contents (rel -> bytes; other changed files pristine) and run the command. A
        trial whose files do not compile reproduces nothing (False)."""
        for rel, data in contents.items():
            try:
                compile(data, rel, "exec")
            except (SyntaxError, ValueError) as e:
                print(f"  (skipped: {label}: {rel} does not compile: {e})", flush=True)
                return False
        for rel in self.all:
            self.write(rel, contents.get(rel, self.pristine[rel]))
        for dp, dirs, _ in os.walk(self.args.scratch):
            if "__pycache__" in dirs:
                shutil.rmtree(os.path.join(dp, "__pycache__"), ignore_errors=True)
        env = dict(os.environ, TREE=self.args.scratch, PYTHONDONTWRITEBYTECODE="1")
        p = subprocess.run(self.args.command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=self.args.timeout)
        self.n += 1
        print(f"  trial {self.n}: {label}: {'FAILS' if p.returncode else 'passes'}", flush=True)
        return p.returncode != 0


def h_key(i1, i2, new):
    return (i1, i2, b"".join(new))


IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
# a module-level definition a fix adds: a lifted def, a hoisted constant
NEW_DEF = re.compile(rb"^(?:async\s+def|def)\s+(_\w+)\s*\(|^(_\w+)\s*=")
ALWAYS = re.compile(rb"^\s*(?:(?:import|from)\s.*)?$")  # import lines and blank lines


def indent(line):
    return len(line) - len(line.lstrip(b" \t")) if line.strip() else None


def merge_bodies(a, ops):
    """difflib may cut the removal of one nested def in two where a line of its body equals a
    line that stays (`yield 100` in two neighbouring defs): a change whose removed lines open a
    block is merged with the next one while the lines between are deeper than its first line."""
    out = []
    for op in ops:
        if out and op[0] != "equal" and len(out) >= 2 and out[-1][0] == "equal" and out[-2][0] != "equal":
            prev, eq = out[-2], out[-1]
            first = next((indent(l) for l in a[prev[1]:prev[2]] if indent(l) is not None), None)
            between = [indent(l) for l in a[eq[1]:eq[2]] if indent(l) is not None]
            if first is not None and a[prev[1]:prev[2]] and between and all(i > first for i in between):
                out[-2:] = [("replace", prev[1], op[2], prev[3], op[4])]
                continue
        out.append(op)
    return out


def split_changes(a, b):
    """The fixed file b against the original a as separate changes: each change is one hunk of
    the rest of b (a lifted def's site, a decorator, ...) with the module-level definitions the
    rewrite added that it uses (found by name, transitively), so that a change can be applied
    alone. Returns (always, changes): hunks applied in every trial (imports, blank lines), and
    a list of hunk lists. A hunk is (i1, i2, order, new_lines) against a."""
    orig = b"".join(a)
    blocks, rest, k = {}, [], 0
    while k < len(b):
        m = NEW_DEF.match(b[k])
        name = m and (m.group(1) or m.group(2))
        if name and not re.search(rb"(?m)^(?:async\s+def|def|class)\s+" + name + rb"\b|^" + name + rb"\s*=", orig):
            e = k + 1
            while e < len(b) and (b[e][:1] in (b" ", b"\t", b")", b"]", b"}") or not b[e].strip()):
                e += 1
            head = []  # comments right above a lifted def moved with it
            while rest and rest[-1].startswith(b"#"):
                head.insert(0, rest.pop())
            blocks[name] = (len(rest), head + b[k:e])
            k = e
            continue
        rest.append(b[k])
        k += 1
    sm = difflib.SequenceMatcher(None, a, rest, autojunk=False)
    ops = merge_bodies(a, sm.get_opcodes())

    def anchor(j):  # the line of a that line j of rest corresponds to
        for tag, i1, i2, j1, j2 in ops:
            if j1 <= j < j2 or (j == j2 == len(rest)):
                return i1 + (j - j1 if tag == "equal" else 0)
        return len(a)
    order = iter(range(10 ** 9))
    block_hunk = {n: (anchor(j), anchor(j), next(order), lines) for n, (j, lines) in blocks.items()}
    always, changes = [], []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        h = (i1, i2, next(order), rest[j1:j2])
        if all(ALWAYS.match(x) for x in rest[j1:j2]) and all(ALWAYS.match(x) for x in a[i1:i2]):
            always.append(h)
            continue
        need, todo = [], [l for l in rest[j1:j2]]
        seen = set()
        while todo:
            for name in IDENT.findall(todo.pop()):
                if name in block_hunk and name not in seen:
                    seen.add(name)
                    need.append(block_hunk[name])
                    todo.extend(block_hunk[name][3])
        changes.append([h] + need)
    used = {id(x) for c in changes for x in c}
    # definitions no change uses (nothing refers to them): their own changes
    for bh in block_hunk.values():
        if id(bh) not in used:
            changes.append([bh])
    return always, changes


def apply(a, hs):
    out, at = [], 0
    seen = set()
    for i1, i2, _, new in sorted(hs, key=lambda h: (h[0], h[2])):
        if h_key(i1, i2, new) in seen:
            continue  # a definition two changes need
        seen.add(h_key(i1, i2, new))
        out.extend(a[at:i1])
        out.extend(new)
        at = i2
    out.extend(a[at:])
    return b"".join(out)


def narrow(items, fails_with):
    """A smallest-found sublist of items for which fails_with(sublist) holds (fails_with(items)
    holds): halving while one half alone fails, then dropping single items."""
    while len(items) > 1:
        h = len(items) // 2
        if fails_with(items[:h]):
            items = items[:h]
        elif fails_with(items[h:]):
            items = items[h:]
        else:
            break
    k = 0
    while len(items) > 1 and k < len(items):
        rest = items[:k] + items[k + 1:]
        if fails_with(rest):
            items = rest
        else:
            k += 1
    return items


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pristine", required=True)
    ap.add_argument("--fixed", required=True)
    ap.add_argument("--scratch", required=True)
    ap.add_argument("--first", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()
    if os.path.exists(args.scratch):
        shutil.rmtree(args.scratch)
    shutil.copytree(args.pristine, args.scratch, symlinks=True)
    t = Trials(args)
    t.all = changed_files(args.pristine, args.fixed)
    t.pristine = {r: open(os.path.join(args.pristine, r), "rb").read() for r in t.all}
    fixed = {r: open(os.path.join(args.fixed, r), "rb").read() for r in t.all}
    print(f"{len(t.all)} changed files")
    if t.fails({}, "pristine"):
        print("the command fails on the pristine tree: nothing to bisect")
        return 2
    if not t.fails(fixed, "every change"):
        print("the command passes with every change: nothing to bisect")
        return 2
    files = None
    for first in args.first:
        if first in fixed and t.fails({first: fixed[first]}, f"only {first}"):
            files = [first]
            break
    if files is None:
        files = narrow(t.all, lambda fs: t.fails({r: fixed[r] for r in fs}, f"{len(fs)} files from {fs[0]}"))
    if len(files) > 1:
        print("the failure needs changes in several files together:", " ".join(files))
    base = {r: fixed[r] for r in files}
    found = []
    for rel in files:
        a = t.pristine[rel].splitlines(keepends=True)
        b = fixed[rel].splitlines(keepends=True)
        always, gs = split_changes(a, b)
        others = {r: v for r, v in base.items() if r != rel}

        def with_groups(sub):
            return always + [h for g in sub for h in g]
        keep = narrow(gs, lambda sub: t.fails({**others, rel: apply(a, with_groups(sub))},
                                              f"{rel}: {len(sub)} of {len(gs)} changes"))
        base[rel] = apply(a, with_groups(keep))
        found.append((rel, a, with_groups(keep), len(keep)))
    print(f"== {t.n} trials; the change{'s' if sum(k for *_, k in found) > 1 else ''} that make it fail:")
    for rel, a, keep, _ in found:
        after = apply(a, keep).splitlines(keepends=True)
        sys.stdout.writelines(difflib.unified_diff([x.decode(errors="replace") for x in a],
                                                   [x.decode(errors="replace") for x in after],
                                                   f"pristine/{rel}", f"fixed/{rel}", n=3))
    return 0 if len(found) == 1 and found[0][3] == 1 else 1


if __name__ == "__main__":
    sys.exit(main())

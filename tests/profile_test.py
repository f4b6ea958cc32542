"""`spipfix profile` against an independent computation in Python: every number of its JSON
report is recomputed here from the code objects that this interpreter compiles from the same
files, following the definitions of `spipfix profile --help`, with code of its own (dis,
marshal, sys.getsizeof, ast; ctypes to reach co_localsplusnames and co_localspluskinds, which
Python does not expose). The rule counts are compared with what `spipfix --check` reports on the
same files. Run it with the interpreter of the target version (Debian's /usr/bin/python3 for
py311, the default; CI runs it once per version with SPIPFIX_TARGET_VERSION set)."""
import argparse
import ast
import ctypes
import dis
import json
import marshal
import os
import re
import subprocess
import sys
import tempfile
import types

from checks import check, summary

PYTHON = sys.executable
CO_OPTIMIZED = 0x1
SEQ = ["store-reload", "attr-reload", "global-reload-in-loop", "constant-display", "constant-discard", "self-assign"]
BACKWARD = {"JUMP_BACKWARD", "POP_JUMP_BACKWARD_IF_FALSE", "POP_JUMP_BACKWARD_IF_TRUE",
            "POP_JUMP_BACKWARD_IF_NONE", "POP_JUMP_BACKWARD_IF_NOT_NONE"}


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=600)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# ---- the reference implementation ---------------------------------------------------------

# PyCodeObject field offsets (Include/cpython/code.h, which changes between versions): the
# fields Python exposes are found by scanning the object's first words for their ids (no
# pointer is followed); co_localsplusnames and co_localspluskinds are the two words before
# co_filename in 3.11 to 3.13, checked below before they are trusted.
PUBLIC = ("co_consts", "co_names", "co_exceptiontable", "co_filename", "co_name", "co_qualname", "co_linetable")
OFFSETS = {}


def find_offsets():
    # g: its co_name and co_qualname are two different objects
    f = compile("def f(a, b):\n    c = a\n    def g():\n        return c\n    return g\n", "/x.py", "exec").co_consts[0]
    co = next(c for c in f.co_consts if isinstance(c, types.CodeType))
    words = [ctypes.c_void_p.from_address(id(co) + off).value for off in range(0, 256, 8)]
    for name in PUBLIC:
        hits = [8 * i for i, w in enumerate(words) if w == id(getattr(co, name))]
        if len(hits) == 1:
            OFFSETS[name] = hits[0]
    if (3, 11) <= sys.version_info[:2] <= (3, 13) and "co_filename" in OFFSETS:
        OFFSETS["co_localsplusnames"] = OFFSETS["co_filename"] - 16
        OFFSETS["co_localspluskinds"] = OFFSETS["co_filename"] - 8


def raw_field(co, name):
    addr = ctypes.c_void_p.from_address(id(co) + OFFSETS[name]).value
    return ctypes.cast(addr, ctypes.py_object).value


def field(co, name):
    if name in ("co_localsplusnames", "co_localspluskinds"):
        return raw_field(co, name)
    return getattr(co, name)


def offsets_ok():
    # only read words inside the object: find_offsets looks no further than its first 256 bytes
    find_offsets()
    co = compile("def f(a, b):\n    c = a\n    def g():\n        return c\n    return g\n", "/x.py", "exec").co_consts[0]
    return (ctypes.sizeof(ctypes.c_void_p) == 8 and len(OFFSETS) == len(PUBLIC) + 2
            and all(raw_field(co, n) is getattr(co, n) for n in PUBLIC)
            and sorted(raw_field(co, "co_localsplusnames")) == ["a", "b", "c", "g"]
            and len(raw_field(co, "co_localspluskinds")) == 4)


def code_objects(code):
    yield code
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield from code_objects(c)


def instructions(code):
    return sum(len(list(dis.get_instructions(c))) for c in code_objects(code))


def memory(code):
    loaded = marshal.loads(marshal.dumps(code))
    seen, total, todo = set(), 0, [loaded]
    while todo:
        o = todo.pop()
        if o is None or o is True or o is False or o is Ellipsis or id(o) in seen:
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        if isinstance(o, types.CodeType):
            todo.extend(field(o, n) for n in OFFSETS)
        elif isinstance(o, (tuple, frozenset)):
            todo.extend(o)
    del loaded
    return total


def strip_annotations(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
            a = node.args
            for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
                if arg is not None:
                    arg.annotation = None
        for name in ("body", "orelse", "finalbody"):
            stmts = getattr(node, name, None)
            if not isinstance(stmts, list):
                continue
            new = []
            for s in stmts:
                if not isinstance(s, ast.AnnAssign):
                    new.append(s)
                elif s.value is not None:
                    new.append(ast.copy_location(ast.Assign(targets=[s.target], value=s.value), s))
            if stmts and not new and ((name == "body" and not isinstance(node, ast.Module))
                                      or (name == "finalbody" and not node.handlers)):
                new = [ast.copy_location(ast.Pass(), node)]
            setattr(node, name, new)
    return tree


def sequences(code):
    n = dict.fromkeys(SEQ, 0)
    for co in code_objects(code):
        if not co.co_flags & CO_OPTIMIZED:
            continue
        ins = []
        for i in dis.get_instructions(co):
            if i.opname == "EXTENDED_ARG":
                continue
            # 3.13's two-local instructions: their two halves
            if i.opname in ("LOAD_FAST_LOAD_FAST", "STORE_FAST_STORE_FAST", "STORE_FAST_LOAD_FAST"):
                first, second = i.opname.split("_FAST_")[0] + "_FAST", i.opname.split("_FAST_")[1]
                ins.append(i._replace(opname=first, argval=i.argval[0]))
                ins.append(i._replace(opname=second if second.endswith("FAST") else second + "_FAST",
                                      argval=i.argval[1]))
                continue
            if i.opname == "LOAD_FAST_CHECK":
                i = i._replace(opname="LOAD_FAST")
            # 3.12+: LOAD_ATTR's method form is 3.11's LOAD_METHOD, not an attribute load
            if i.opname == "LOAD_ATTR" and sys.version_info >= (3, 12) and i.arg & 1:
                i = i._replace(opname="LOAD_METHOD")
            ins.append(i)
        pairs = set()
        for k, i in enumerate(ins):
            nx = ins[k + 1] if k + 1 < len(ins) else None
            if nx and i.opname == "STORE_FAST" and nx.opname == "LOAD_FAST" and i.argval == nx.argval:
                n["store-reload"] += 1
            if nx and i.opname == "LOAD_FAST" and nx.opname == "STORE_FAST" and i.argval == nx.argval:
                n["self-assign"] += 1
            if nx and i.opname == "LOAD_CONST" and nx.opname == "POP_TOP":
                n["constant-discard"] += 1

            def consts(m):
                return m <= k and all(p.opname == "LOAD_CONST" for p in ins[k - m:k])
            if ((i.opname in ("BUILD_LIST", "BUILD_SET") and i.arg >= 1 and consts(i.arg))
                    or (i.opname == "BUILD_CONST_KEY_MAP" and i.arg >= 1 and consts(i.arg + 1))
                    or (i.opname == "BUILD_MAP" and i.arg >= 1 and consts(2 * i.arg))
                    or (i.opname in ("LIST_EXTEND", "SET_UPDATE") and i.arg == 1 and k >= 2
                        and ins[k - 1].opname == "LOAD_CONST" and ins[k - 2].arg == 0
                        and ins[k - 2].opname == ("BUILD_LIST" if i.opname == "LIST_EXTEND" else "BUILD_SET"))):
                n["constant-display"] += 1
            if i.opname in ("STORE_FAST", "DELETE_FAST"):
                pairs = {p for p in pairs if p[0] != i.argval}
            if i.opname in ("STORE_ATTR", "DELETE_ATTR"):
                pairs = {p for p in pairs if p[1] != i.argval}
            if nx and i.opname == "LOAD_FAST" and nx.opname == "LOAD_ATTR":
                if (i.argval, nx.argval) in pairs:
                    n["attr-reload"] += 1
                pairs.add((i.argval, nx.argval))
        redundant = set()
        for j, jump in enumerate(ins):
            if jump.opname not in BACKWARD:
                continue
            seen = set()
            for i in ins[:j]:
                if i.offset >= jump.argval and i.opname == "LOAD_GLOBAL":
                    if i.argval in seen:
                        redundant.add(i.offset)
                    seen.add(i.argval)
        n["global-reload-in-loop"] += len(redundant)
    return n


def is_test(rel):
    parts = rel.split("/")
    return parts[-1].startswith("test_") or any(p in ("tests", "test") for p in parts[:-1])


def rule_counts(root, cwd):
    rc, out, err = run([SPIPFIX, "--check", "--no-respect-gitignore", "--no-cache", root], cwd)
    counts = {}
    for m in re.finditer(r"^.*?:\d+:\d+: (SPF\d+) ", out, re.M):
        counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts


def reference(roots, cwd, codes):
    """The profile of the .py files under roots, computed here."""
    r = {"files": 0, "errors": 0, "instructions": 0, "test_instructions": 0, "pyc_bytes": 0,
         "oo_saved_bytes": 0, "memory_bytes": 0, "annotation_memory_bytes": 0,
         "sequences": dict.fromkeys(SEQ, 0), "findings": dict.fromkeys(codes, 0)}
    for root in roots:
        files = []
        if os.path.isfile(root):
            files = [(root, os.path.basename(root))]
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [x for x in dirnames if x != "__pycache__"]
            files += [(os.path.join(dirpath, f), os.path.relpath(os.path.join(dirpath, f), root))
                      for f in filenames if f.endswith(".py") and len(f) > 3]
        for path, rel in files:
            r["files"] += 1
            with open(path, "rb") as f:
                src = f.read()
            try:
                code = compile(src, path, "exec", dont_inherit=True, optimize=0)
            except (SyntaxError, ValueError):
                r["errors"] += 1
                continue
            code2 = compile(src, path, "exec", dont_inherit=True, optimize=2)
            stripped = compile(strip_annotations(ast.parse(src, path)), path, "exec", dont_inherit=True, optimize=0)
            n = instructions(code)
            r["instructions"] += n
            r["test_instructions"] += n if is_test(rel) else 0
            r["pyc_bytes"] += 16 + len(marshal.dumps(code))
            r["oo_saved_bytes"] += max(0, len(marshal.dumps(code)) - len(marshal.dumps(code2)))
            mem = memory(code)
            r["memory_bytes"] += mem
            r["annotation_memory_bytes"] += max(0, mem - memory(stripped))
            for k, v in sequences(code).items():
                r["sequences"][k] += v
        for code, v in rule_counts(root, cwd).items():
            r["findings"][code] = r["findings"].get(code, 0) + v
    return r


def compare(name, got, ref):
    for key in ("files", "errors", "instructions", "test_instructions", "pyc_bytes", "oo_saved_bytes",
                "memory_bytes", "annotation_memory_bytes", "sequences", "findings"):
        check(f"{name}: {key}", got.get(key) == ref[key], f"spipfix {got.get(key)} != reference {ref[key]}")


# ---- a package with a known content ---------------------------------------------------------

MOD = '''"""Module docstring."""
import os


def store_reload(xs):
    y = len(xs)
    return y


def self_assign(a):
    a = a
    return a


def attr_reload(o):
    t = o.x + o.x + o.y
    o = None
    return t, o.x


def globals_in_loop(xs):
    out = []
    for x in xs:
        out.append(len(x) + len(os.sep) + len(os.sep))
    return out


def displays():
    a = [1, 2]
    b = {1, 2}
    c = {"k": 1}
    d = {"k": 1, "j": 2}
    e = [1, 2, 3, 4]
    f = {1, 2, 3, 4}
    return a, b, c, d, e, f


def annotated(x: int, *args: str, y: "float" = 1.0, **kw: dict) -> list:
    """Docstring."""
    assert x > 0, "positive"
    z: int = x
    w: str
    return [z]


class C:
    attr: int = 3
    other: str

    def method(self) -> None:
        def inner():
            return 1
        return inner()


def outer():
    def key(v):
        return -v
    return sorted([3, 1], key=key)


try:
    pass
finally:
    only: int
'''

DEEP = '''def loops(n):
    r = []
    for i in range(n):
        r.append(lambda: 0)
        def g():
            return i
    return r
'''


def big():
    """More than 256 constants: some instructions need EXTENDED_ARG."""
    return "def f():\n" + "".join(f"    a{i} = {1000 + i}\n" for i in range(300)) + "    return a299\n"


def main():
    check(f"ctypes offsets of PyCodeObject fields (CPython {sys.version_info[0]}.{sys.version_info[1]}, 64-bit)",
          offsets_ok(), OFFSETS)
    rc, out, err = run([SPIPFIX, "--help"], "/")
    codes = re.findall(r"^  (SPF\d+) ", out, re.M)
    check("rule codes from --help", len(codes) >= 2, out)
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.realpath(tmp)
        files = {
            "fixpkg/__init__.py": '"""Package."""\nVERSION: str = "1.0"\ncount: int\n',
            "fixpkg/mod.py": MOD,
            "fixpkg/sub/__init__.py": "",
            "fixpkg/sub/deep.py": DEEP,
            "fixpkg/big.py": big(),
            "fixpkg/tests/__init__.py": "",
            "fixpkg/tests/helpers.py": "def h():\n    def k():\n        pass\n    return k\n",
            "fixpkg/test_top.py": "def test_a():\n    assert [1, 2] == [1, 2]\n",
            "fixpkg/__pycache__/skipped.py": "x = 1\n",
            "other/one.py": "def f():\n    return 1\n",
        }
        for name, text in files.items():
            p = os.path.join(d, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
        with open(os.path.join(d, "fixpkg/latin.py"), "wb") as f:
            f.write(b"# -*- coding: latin-1 -*-\ndef f():\n    s = '\xe9'\n    def g(): pass\n    return s\n")

        rc, out, err = run([SPIPFIX, "profile", "--format", "json", "fixpkg"], d)
        check("fixture: exit 0", rc == 0, f"rc={rc} {err}")
        data = json.loads(out)
        pkg = data["packages"][0]
        check("fixture: name and path", pkg["name"] == "fixpkg" and pkg["paths"] == [os.path.join(d, "fixpkg")], pkg)
        ref = reference([os.path.join(d, "fixpkg")], d, codes)
        compare("fixture", pkg, ref)
        check("fixture: every sequence occurs", all(ref["sequences"][k] > 0 for k in SEQ if k != "constant-discard"),
              ref["sequences"])
        check("fixture: tests, -OO and annotations are not zero",
              ref["test_instructions"] and ref["oo_saved_bytes"] and ref["annotation_memory_bytes"] > 0, ref)
        check("fixture: SPF101 and SPF102 found", ref["findings"].get("SPF101") and ref["findings"].get("SPF102"), ref)
        check("fixture: a column per registered rule", sorted(pkg["findings"]) == sorted(codes), pkg["findings"])
        check("fixture: latin-1 file measured, rules not run", pkg["unanalysed"] == 1 and "latin.py" in err, err)
        top = [t["sequence"] for t in pkg["top_sequences"]]
        expect = sorted(SEQ, key=lambda k: (-ref["sequences"][k], SEQ.index(k)))[:3]
        check("fixture: top three sequences", top == expect, f"{top} != {expect}")
        check("fixture: test share", abs(pkg["test_share"] - ref["test_instructions"] / ref["instructions"]) < 1e-6)
        check("fixture: total is the package", all(data["total"][k] == pkg[k] for k in ("instructions", "memory_bytes")))
        check("fixture: no progress line off a terminal", "\r" not in err, repr(err))

        # a file without annotations takes no annotation memory; a file path is a package of one
        rc, out, err = run([SPIPFIX, "profile", "--format", "json", "fixpkg/sub/deep.py"], d)
        one = json.loads(out)["packages"][0]
        check("single file: name", one["name"] == "deep" and one["files"] == 1, one)
        check("single file: no annotations, no annotation memory", one["annotation_memory_bytes"] == 0, one)
        compare("single file", one, reference([os.path.join(d, "fixpkg/sub/deep.py")], d, codes))

        # table, sort, totals
        rc, out, err = run([SPIPFIX, "profile", "--sort", "instructions", "other", "fixpkg"], d)
        lines = out.splitlines()
        head = lines[0].split()
        check("table: header", head[:8] == ["PACKAGE", "FILES", "INSTRUCTIONS", "TESTS", "PYC_BYTES", "OO_SAVES",
                                            "MEMORY", "ANNOTATIONS"] and head[8:] == codes, lines[0])
        check("table: sorted by instructions, total last", [l.split()[0] for l in lines[1:4]] ==
              ["fixpkg", "other", "total"], out)
        check("table: sequences section", "Most frequent redundant sequences:" in out, out)
        rc, out, err = run([SPIPFIX, "profile", "--format", "json", "--sort", "name", "other", "fixpkg"], d)
        both = json.loads(out)
        check("json: sorted by name", [p["name"] for p in both["packages"]] == ["fixpkg", "other"])
        check("json: total is the sum", all(both["total"][k] == sum(p[k] for p in both["packages"])
                                            for k in ("files", "instructions", "pyc_bytes", "memory_bytes")))
        rc, out, err = run([SPIPFIX, "profile", "--sort", "bogus", "other"], d)
        check("unknown --sort key exits 2", rc == 2 and "bogus" in err, err)

        # bad input: reported, exit 2, the other files and packages still counted
        os.makedirs(os.path.join(d, "badpkg"))
        with open(os.path.join(d, "badpkg/broken.py"), "w") as f:
            f.write("def f(:\n")
        with open(os.path.join(d, "badpkg/fine.py"), "w") as f:
            f.write("def f():\n    return 1\n")
        rc, out, err = run([SPIPFIX, "profile", "--format", "json", "badpkg", "no_such_package_xyz", "other"], d)
        check("bad input exits 2", rc == 2, f"rc={rc}")
        check("bad input: the file and the missing package reported",
              "broken.py" in err and "no_such_package_xyz" in err, err)
        res = {p["name"]: p for p in json.loads(out)["packages"]}
        check("bad input: the rest counted", res["badpkg"]["errors"] == 1 and res["badpkg"]["instructions"] ==
              reference([os.path.join(d, "badpkg")], d, codes)["instructions"] and "other" in res, res)

        # installed packages, by name, on the embedded interpreter's sys.path
        names = ["json", "email"]
        for extra in ("click", "pytz"):
            rc2, loc, _ = run([PYTHON, "-I", "-c", "import importlib.util, sys; print(importlib.util.find_spec(sys.argv[1]))",
                               extra], d)
            if loc.strip() not in ("", "None"):
                names.append(extra)
        rc, out, err = run([SPIPFIX, "profile", "--format", "json", *names], d)
        check("installed packages: exit 0", rc == 0, f"rc={rc} {err}")
        got = {p["name"]: p for p in json.loads(out)["packages"]}
        for name in names:
            rc2, loc, _ = run([PYTHON, "-I", "-c", "import importlib.util, sys; s = importlib.util.find_spec(sys.argv[1]);"
                               " print('\\n'.join(s.submodule_search_locations))", name], d)
            roots = loc.split()
            check(f"{name}: found where {PYTHON} -I finds it", got[name]["paths"] == roots, f"{got[name]['paths']} {roots}")
            compare(name, got[name], reference(roots, d, codes))
    return summary()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", required=True)
    SPIPFIX = os.path.abspath(ap.parse_args().spipfix)
    sys.exit(main())

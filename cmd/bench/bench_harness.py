"""Timing harness of `spipfix bench`, compiled into the binary and run in the user's interpreter
(`spipfix bench --python PATH`, by default the target version's python3.X) as a child process:
`python -c HARNESS RFD WFD` reads one JSON request per line from fd RFD and answers each with one
JSON line on fd WFD (stdout and stderr stay the module code's own).

The C side finds the fixes and builds the rewritten text with the fix engine's own edits; this
module only does what needs the interpreter:
  - load():    execute a module's text (the original, or a rewritten one) in a fresh module object
               named like the real module, with the package imported first, so the timed code sees
               the module's own globals and imports;
  - snippet(): take the statements (or the expression) at a byte range of that text from its real
               syntax tree and compile them into a timing function whose globals are that module's
               namespace: a for loop over itertools.repeat around the snippet, as timeit does;
  - paths():   sys.path as the interpreter has it when it runs a script (PYTHONPATH,
               site-packages);
  - time():    calibrate the loop count to about round_ms per round, then alternate before and
               after rounds with the cyclic GC off, as timeit does; ns per run of each round.
"""
import __future__
import ast
import copy
import gc
import importlib
import importlib.util
import itertools
import json
import os
import site
import sys
import types

_FUTURE_FLAGS = 0
for _name in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _name).compiler_flag

_MISSING = object()

_TEMPLATE = """\
def _spipfix_timer(_spipfix_it, _spipfix_clock):
    _spipfix_setup
    _spipfix_t0 = _spipfix_clock()
    for _spipfix_i in _spipfix_it:
        _spipfix_stmt
    return _spipfix_clock() - _spipfix_t0
"""


def paths(extra):
    """Put PYTHONPATH entries and `extra` first on sys.path, then the site-packages folders."""
    env = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    for p in reversed([*extra, *env]):
        p = os.path.abspath(p)
        if p not in sys.path:
            sys.path.insert(0, p)
    site.main()


def identity(path):
    """(module name, package, folder that must be on sys.path, is it a package's __init__)."""
    path = os.path.abspath(path)
    folder, base = os.path.split(path)
    stem = base[:-3] if base.endswith(".py") else base
    is_pkg = stem == "__init__"
    parts = [] if is_pkg else [stem]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, pkg = os.path.split(folder)
        parts.insert(0, pkg)
        if not pkg:
            break
    if not parts:
        parts = [stem]
    name = ".".join(parts)
    package = name if is_pkg else name.rpartition(".")[0]
    return name, package, folder, is_pkg


def load(path, source):
    """Execute `source` as the module at `path` in a fresh module object and return (namespace,
    future flags). The real sys.modules entry is put back afterwards."""
    path = os.path.abspath(path)
    name, package, root, is_pkg = identity(path)
    if root not in sys.path:
        sys.path.insert(0, root)
    parent = package if not is_pkg else package.rpartition(".")[0]
    if parent:
        importlib.import_module(parent)  # relative imports need the real package
    code = compile(source, path, "exec", dont_inherit=True)
    spec = importlib.util.spec_from_file_location(
        name, path, submodule_search_locations=[os.path.dirname(os.path.abspath(path))] if is_pkg else None)
    mod = importlib.util.module_from_spec(spec)
    saved = sys.modules.get(name, _MISSING)
    sys.modules[name] = mod
    cwd = os.getcwd()
    try:
        exec(code, mod.__dict__)
    except SystemExit as e:
        raise RuntimeError(f"the module called sys.exit({e.code!r}) at import") from None
    finally:
        os.chdir(cwd)
        if saved is _MISSING:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = saved
    return mod.__dict__, code.co_flags & _FUTURE_FLAGS


def parse(source, path):
    return ast.parse(source, path)


def _start(node):
    first = (node.lineno, node.col_offset)
    for d in getattr(node, "decorator_list", ()):
        first = min(first, (d.lineno, d.col_offset))
    return first


def _end(node):
    return (node.end_lineno, node.end_col_offset)


def select(tree, start, end):
    """The code at [start, end) ((line, byte column) pairs): the outermost statements lying inside
    it, else the outermost expression inside it. Returns (statements, kind)."""
    stmts, exprs = [], []
    todo = [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if not hasattr(child, "lineno"):
                todo.append(child)
                continue
            inside = start <= _start(child) and _end(child) <= end
            if inside and isinstance(child, ast.stmt):
                stmts.append(child)
            elif inside and isinstance(child, ast.expr) and not stmts:
                exprs.append(child)
            elif _start(child) < end and start < _end(child):
                todo.append(child)
    if stmts:
        stmts.sort(key=_start)
        return stmts, "statements"
    exprs = [e for e in exprs if not any(o is not e and _start(o) <= _start(e) and _end(e) <= _end(o)
                                         for o in exprs)]
    if len(exprs) == 1:
        return [ast.Expr(value=exprs[0], lineno=exprs[0].lineno, col_offset=exprs[0].col_offset,
                         end_lineno=exprs[0].end_lineno, end_col_offset=exprs[0].end_col_offset)], "expression"
    if not exprs:
        return [ast.Pass()], "nothing"
    raise ValueError("the range holds several expressions and no whole statement")


def snippet(ns, flags, tree, path, start, end, warm):
    """A timing function f(iterator, clock) -> ns for the code at [start, end) of `tree`, compiled with
    the module's future flags and `ns` as its globals. With `warm`, the snippet runs once before
    the clock starts (a cache fills). Returns (function, the timed code as text, kind)."""
    body, kind = select(tree, start, end)
    timer = ast.parse(_TEMPLATE)
    fn = timer.body[0]
    fn.body[0:1] = copy.deepcopy(body) if warm else []
    fn.body[-2].body = body
    ast.fix_missing_locations(timer)
    code = compile(timer, path, "exec", flags=flags, dont_inherit=True)
    fcode = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    return types.FunctionType(fcode, ns), "\n".join(ast.unparse(s) for s in body), kind


def repeat(n):
    """The loop's iterator, as timeit makes it: no int object per iteration."""
    return itertools.repeat(None, n)


def gc_pause():
    """Disable the cyclic collector while timing, as timeit does; returns the previous state."""
    was = gc.isenabled()
    gc.disable()
    return was


def gc_resume(was):
    if was:
        gc.enable()


def clock():
    import time
    return time.perf_counter_ns


def time_pair(before, after, rounds, round_ms):
    """Calibrate n to about round_ms per round (the slower side), then `rounds` rounds of
    before and after, alternating which goes first. Returns (n, before ns/run, after ns/run)."""
    clock = _clock()
    target = round_ms * 1e6
    n = 1
    while True:
        tb = before(repeat(n), clock)
        ta = after(repeat(n), clock)
        t = max(tb, ta)
        if t >= target / 8 or n >= 1 << 32:
            n = max(1, int(n * (target / t if t > 0 else 1)))
            break
        n *= 8
    b, a = [], []
    for i in range(rounds):
        if i % 2:
            t2 = after(repeat(n), clock)
            t1 = before(repeat(n), clock)
        else:
            t1 = before(repeat(n), clock)
            t2 = after(repeat(n), clock)
        b.append(t1 / n)
        a.append(t2 / n)
    return n, b, a


def _clock():
    import time
    return time.perf_counter_ns


def _error(e):
    return f"{type(e).__name__}: {e}"


def serve(rfd, wfd):
    """The request loop: load / drop a side, time a pair; one JSON answer per request."""
    rf = os.fdopen(rfd, "r", encoding="utf-8")
    wf = os.fdopen(wfd, "w", encoding="utf-8")
    if sys.path and sys.path[0] == "":
        del sys.path[0]  # `python -c` puts the current folder first; a module's own folder comes in load()
    paths(())
    sides = {}
    wf.write(json.dumps({"python": sys.version, "executable": sys.executable}) + "\n")
    wf.flush()
    for line in rf:
        req = json.loads(line)
        op = req["op"]
        try:
            if op == "load":
                sides.pop(req["side"], None)
                ns, flags = load(req["path"], req["text"])
                sides[req["side"]] = (ns, flags, parse(req["text"], req["path"]), req["path"])
                ans = {"ok": True}
            elif op == "drop":
                sides.pop(req["side"], None)
                ans = {"ok": True}
            elif op == "time":
                fns, codes = [], []
                try:
                    for which in ("before", "after"):
                        r = req[which]
                        ns, flags, tree, path = sides[r["side"]]
                        fn, code, _ = snippet(ns, flags, tree, path, tuple(r["start"]), tuple(r["end"]), r["warm"])
                        fns.append(fn)
                        codes.append(code)
                except Exception as e:
                    ans = {"error": _error(e), "stage": "build"}
                else:
                    was = gc_pause()
                    try:
                        n, b, a = time_pair(fns[0], fns[1], req["rounds"], req["round_ms"])
                        ans = {"ok": True, "loops": n, "before": b, "after": a, "before_code": codes[0],
                               "after_code": codes[1]}
                    except Exception as e:
                        ans = {"error": _error(e), "stage": "raised"}
                    finally:
                        gc_resume(was)
            else:
                ans = {"error": f"unknown request {op!r}"}
        except SystemExit as e:
            ans = {"error": f"SystemExit: {e.code!r}"}
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            ans = {"error": _error(e)}
        sys.stdout.flush()
        wf.write(json.dumps(ans) + "\n")
        wf.flush()


if __name__ == "__main__" and len(sys.argv) == 3:
    serve(int(sys.argv[1]), int(sys.argv[2]))

"""Loaded by the interpreter `spipfix trace` runs the program under (its folder is put first on
PYTHONPATH for that one process): starts the counter (_spipfix_trace, built for this Python
version) before the program runs, takes its own folder off sys.path again, imports the
sitecustomize it hides, and writes the counts when the interpreter exits, after the program's
own exit handlers. The settings come in SPIPFIX_TRACE_* environment variables, which are removed
(and PYTHONPATH restored) unless child processes are to be traced too."""


class _Skip(Exception):
    pass


def _spipfix_trace_start():
    import atexit
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    env = os.environ
    out = env.get("SPIPFIX_TRACE_OUT")
    try:
        import _spipfix_trace
    except ImportError as e:
        _spipfix_trace = e
    sys.modules.pop("_spipfix_trace", None)
    sys.path[:] = [p for p in sys.path if not p or os.path.abspath(p) != here]
    if "SPIPFIX_TRACE_PYTHONPATH" in env:
        old = env["SPIPFIX_TRACE_PYTHONPATH"]
        keep = env.get("SPIPFIX_TRACE_CHILDREN") == "1"
        if not keep:
            if old == "\0" or old == "":
                env.pop("PYTHONPATH", None)
            else:
                env["PYTHONPATH"] = old
            settings = {k: env.pop(k) for k in list(env) if k.startswith("SPIPFIX_TRACE_")}
        else:
            settings = {k: v for k, v in env.items() if k.startswith("SPIPFIX_TRACE_")}
    else:
        settings = {}

    def report(obj):
        import json
        path = os.path.join(out, "trace-%d.json" % os.getpid())
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(obj, f)
        os.replace(tmp, path)

    def error(msg):
        if settings.get("SPIPFIX_TRACE_CHILDREN") == "1":
            # one of the processes of a command: it runs uncounted, and the report says so
            try:
                report({"skipped": msg})
            except OSError:
                pass
            raise _Skip
        try:
            report({"error": msg})
        finally:
            os._exit(2)

    if not out:
        return
    if isinstance(_spipfix_trace, ImportError):
        error("no counter was built for Python %d.%d (%s): %s" % (sys.version_info[0], sys.version_info[1],
                                                                 sys.executable, _spipfix_trace))
    import opcode
    names = [n for n in settings.get("SPIPFIX_TRACE_INSTRUCTIONS", "").split(",") if n]
    if names == ["ALL"]:  # every instruction (the tests compare them all with opcode events)
        names = [n for n, op in opcode.opmap.items() if op < 256 and n not in ("CACHE", "EXTENDED_ARG")
                 and op not in getattr(opcode, "_specialized_instructions", ()) and not n.startswith("INSTRUMENTED_")]
    upper = {k.upper(): v for k, v in opcode.opmap.items()}
    tracked = []
    for n in names:
        optional = n.startswith("?")  # a default that this version may lack
        n = n.lstrip("?")
        op = upper.get(n.upper())
        if op is None and optional:
            continue
        if op is None or n.upper() in ("CACHE", "EXTENDED_ARG") or op >= 256:
            error("unknown instruction `%s` (names as in the `dis` module of Python %d.%d; specialised forms "
                  "count as their base instruction)" % (n, sys.version_info[0], sys.version_info[1]))
        if op not in tracked:
            tracked.append(op)

    def lines(key):
        return [s for s in settings.get(key, "").split("\n") if s]

    def finish():
        data = _spipfix_trace.stop()
        data["format"] = "spipfix-trace-raw/1"
        data["python"] = "%d.%d.%d" % sys.version_info[:3]
        data["executable"] = sys.executable
        data["opnames"] = list(opcode.opname)
        data["tracked"] = tracked
        data["pid"] = os.getpid()
        report(data)

    atexit.register(finish)
    try:
        _spipfix_trace.start({"tracked": tracked, "patterns": lines("SPIPFIX_TRACE_FILES"),
                              "roots": lines("SPIPFIX_TRACE_ROOTS"),
                              "all": settings.get("SPIPFIX_TRACE_ALL") == "1"})
    except Exception as e:
        error("cannot start the counter: %s" % e)


try:
    _spipfix_trace_start()
except _Skip:
    pass
del _spipfix_trace_start, _Skip

# the sitecustomize this one hides, if there is one
import sys as _sys

_me = _sys.modules.pop("sitecustomize")
try:
    import sitecustomize  # noqa: F401
except ImportError:
    _sys.modules["sitecustomize"] = _me
del _sys, _me

"""An independent counter for `spipfix trace`: runs SCRIPT with a callback on every instruction of
the main thread in that file (opcode events of sys.settrace on 3.11, INSTRUCTION events of
sys.monitoring on 3.12+), and writes what `spipfix trace --format json -i ALL` reports for it:
counts by position and instruction, the total, and the calls of each code object.

    PYTHON tests/trace_oracle.py OUT.json SCRIPT [ARGS...]

An instruction is named by its base opcode (co_code is deoptimised) and counted once with its
EXTENDED_ARG prefixes; RESUME and the instructions before a code object's first traceable one
(MAKE_CELL, COPY_FREE_VARS, RETURN_GENERATOR and its POP_TOP) are not instructions of the program."""
import json
import opcode
import os
import sys
import threading

EXT = opcode.opmap["EXTENDED_ARG"]
RESUME = opcode.opmap["RESUME"]
out_path, script = sys.argv[1], os.path.abspath(sys.argv[2])
sys.argv = sys.argv[2:]
sys.path[0] = os.path.dirname(os.path.realpath(script))
counts = {}  # (qualname, firstlineno, offset, opname) -> n
calls = {}   # (qualname, firstlineno) -> n
positions = {}
main_ident = threading.get_ident()


def first_traceable(code):
    """Offset of the first RESUME: what comes before it is the frame's set-up."""
    b = code.co_code
    for off in range(0, len(b), 2):
        if b[off] == RESUME:
            return off
    return 0


starts = {}


def count(code, off):
    b = code.co_code
    if b[off] == EXT:
        if mon:
            return  # 3.12+: the instruction it extends has its own event
        while b[off] == EXT:  # 3.11: the event is the prefix's, the instruction has none
            off += 2
    if b[off] == RESUME:
        return
    if off < starts.setdefault(code, first_traceable(code)):
        return
    key = (code.co_qualname, code.co_firstlineno, off, opcode.opname[b[off]])
    counts[key] = counts.get(key, 0) + 1
    if key not in positions:
        positions[key] = list(code.co_positions())[off // 2]


mon = getattr(sys, "monitoring", None)
if mon:
    TOOL = 5
    mon.use_tool_id(TOOL, "oracle")

    def on_insn(code, off):
        if code.co_filename != script:
            return mon.DISABLE
        if threading.get_ident() == main_ident:
            count(code, off)

    def on_start(code, off):
        if code.co_filename != script:
            return mon.DISABLE
        if threading.get_ident() == main_ident:
            k = (code.co_qualname, code.co_firstlineno)
            calls[k] = calls.get(k, 0) + 1

    mon.register_callback(TOOL, mon.events.INSTRUCTION, on_insn)
    mon.register_callback(TOOL, mon.events.PY_START, on_start)

    def start():
        mon.set_events(TOOL, mon.events.INSTRUCTION | mon.events.PY_START)

    def stop():
        mon.set_events(TOOL, 0)
else:
    def local(frame, event, arg):
        if event == "opcode":
            count(frame.f_code, frame.f_lasti)
        return local

    def on_call(frame, event, arg):
        if frame.f_code.co_filename != script:
            return None
        code = frame.f_code
        b = code.co_code
        # RESUME 0: the code starts; a resumption has RESUME 1-3, a throw() the YIELD_VALUE
        if b[frame.f_lasti] == RESUME and b[frame.f_lasti + 1] == 0:
            k = (code.co_qualname, code.co_firstlineno)
            calls[k] = calls.get(k, 0) + 1
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        return local

    def start():
        sys.settrace(on_call)

    def stop():
        sys.settrace(None)

with open(script) as f:
    code = compile(f.read(), script, "exec")
status = 0
start()
try:
    exec(code, {"__name__": "__main__", "__file__": script})
except SystemExit as e:
    status = e.code if isinstance(e.code, int) else 1
finally:
    stop()
    by_pos = {}
    for (qn, fl, off, op), n in counts.items():
        line, end_line, col, end_col = (-1 if v is None else v for v in positions[(qn, fl, off, op)])
        k = (line, col, end_line, end_col, op)
        by_pos[k] = by_pos.get(k, 0) + n
    with open(out_path, "w") as f:
        json.dump({"total": sum(counts.values()),
                   "by_position": [list(k) + [n] for k, n in by_pos.items()],
                   "calls": [[qn, fl, n] for (qn, fl), n in calls.items()]}, f)
sys.exit(status)

#!/usr/bin/python3
"""Golden test runner for spipfix.

Usage:
    /usr/bin/python3 tests/golden_run.py --spipfix PATH [--update]
        [--filter SUBSTR] [--target-version pyXY --python PATH] GOLDEN_DIR

Layout: GOLDEN_DIR/<pass>/<case>/{input.py, expected.diff, expected.report, args?,
                                   driver.py?, expected.pyXY.{diff,report,error}?}

With --target-version pyXY every spipfix run gets that option and every driver runs under
--python (that version's interpreter). A case whose output differs by version says so with
expected.pyXY.diff / expected.pyXY.report, used instead of expected.diff / expected.report
under that version; expected.pyXY.error means the version cannot compile input.py: --diff,
--fix and the report must exit 2, change nothing and print each line of that file on stderr.

For every case:
  * Under GOLDEN_DIR/SPFnnn/, ARGS starts with `--select SPFnnn` unless the
    case's args file has a --select; other folders (multipass/) run every rule.
  * `spipfix --diff ARGS input.py` (cwd = a fresh temp dir holding a byte
    exact copy of input.py) must print exactly expected.diff; exit code 1
    iff the diff is non-empty, 0 otherwise.  An empty expected.diff means
    "must not change".
  * `spipfix --fix ARGS input.py` in another temp dir must produce the file
    that expected.diff describes (the original when it is empty), and a
    second `--fix` must not change it again (idempotence).
  * The diagnostics of `spipfix ARGS input.py` (stdout) must equal
    expected.report, so every message and every reason a fix is unsafe or
    missing is pinned, and a negative case also proves the finding is reported
    (or not) and says why it is not fixed.  --update writes expected.diff and
    expected.report from the actual output (review them with `git diff`).
  * With driver.py and a non-empty expected.diff: `python3 driver.py` run
    next to the original input.py and next to the fixed input.py must give
    the same stdout and exit code.

Standard library only; run it with Debian's /usr/bin/python3.
"""

import argparse
import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

TIMEOUT = 60
PYTHON = "/usr/bin/python3"
TARGET = "py311"   # the version whose expected.pyXY.* files apply (spipfix's default)
TARGET_ARGS = []   # ["--target-version", TARGET] when one is given


class CaseFailure(Exception):
    pass


def read_bytes(path):
    with open(path, "rb") as fh:
        return fh.read()


def write_bytes(path, data):
    with open(path, "wb") as fh:
        fh.write(data)


def run(argv, cwd, env=None):
    """Run argv; return (returncode, stdout bytes, stderr bytes)."""
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise CaseFailure("timeout after %ds: %s" % (TIMEOUT, shlex.join(argv)))
    except OSError as exc:
        raise CaseFailure("cannot run %s: %s" % (argv[0], exc))
    return proc.returncode, proc.stdout, proc.stderr


def show_bytes_diff(expected, actual, from_name, to_name):
    """`diff -u expected actual` style text for two byte strings."""
    exp_lines = expected.splitlines(keepends=True)
    act_lines = actual.splitlines(keepends=True)
    out = difflib.diff_bytes(difflib.unified_diff, exp_lines, act_lines,
                             from_name.encode(), to_name.encode(),
                             lineterm=b"\n")
    text = []
    for line in out:
        if not line.endswith(b"\n"):
            line += b"\n\\ No newline at end of file\n"
        text.append(line)
    return b"".join(text).decode("utf-8", "backslashreplace")


def describe(rc, stderr):
    msg = "exit code %d" % rc
    err = stderr.decode("utf-8", "backslashreplace").strip()
    if err:
        msg += "; stderr:\n" + indent(err)
    return msg


def indent(text, prefix="    "):
    return "".join(prefix + line for line in text.splitlines(keepends=True))


HUNK_RE = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply_unified_diff(original, patch):
    """Apply a single-file unified diff (bytes) to `original` (bytes).

    Returns the patched bytes or raises CaseFailure.  Lines keep their own
    endings (CRLF survives); "\\ No newline at end of file" is honoured.
    """
    src = original.splitlines(keepends=True)
    lines = patch.splitlines(keepends=True)
    out = []
    pos = 0  # index into src of the next line not yet copied
    i = 0
    while i < len(lines) and not lines[i].startswith(b"@@"):
        i += 1
    while i < len(lines):
        m = HUNK_RE.match(lines[i])
        if not m:
            raise CaseFailure("bad hunk header in diff: %r" % lines[i])
        old_start = int(m.group(1))
        old_len = int(m.group(2)) if m.group(2) is not None else 1
        new_len = int(m.group(4)) if m.group(4) is not None else 1
        i += 1
        old, new = [], []
        last = ()
        while i < len(lines) and not lines[i].startswith(b"@@"):
            line = lines[i]
            i += 1
            if line.startswith(b"\\"):
                for lst in last:
                    if lst and lst[-1].endswith(b"\n"):
                        lst[-1] = lst[-1][:-1]
                continue
            tag, body = line[:1], line[1:]
            if tag == b" ":
                old.append(body)
                new.append(body)
                last = (old, new)
            elif tag == b"-":
                old.append(body)
                last = (old,)
            elif tag == b"+":
                new.append(body)
                last = (new,)
            else:
                raise CaseFailure("unexpected line in diff: %r" % line)
        if len(old) != old_len or len(new) != new_len:
            raise CaseFailure("hunk line counts do not match its header "
                              "(header -%d +%d, body -%d +%d)"
                              % (old_len, new_len, len(old), len(new)))
        start = old_start - 1 if old_len > 0 else old_start
        if start < pos:
            raise CaseFailure("overlapping or unordered hunks in diff")
        if src[start:start + old_len] != old:
            raise CaseFailure("hunk at line %d does not match input.py" % old_start)
        out.extend(src[pos:start])
        out.extend(new)
        pos = start + old_len
    out.extend(src[pos:])
    return b"".join(out)


def driver_env():
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONSTARTUP", None)
    return env


def version_file(case_dir, base, ext):
    """expected.pyXY.EXT for the target version when the case has one, else expected.EXT."""
    path = os.path.join(case_dir, "%s.%s.%s" % (base, TARGET, ext))
    return path if os.path.exists(path) else os.path.join(case_dir, "%s.%s" % (base, ext))


def run_error_case(case_dir, spipfix, args, input_bytes, error_path):
    """The target version cannot compile input.py: exit 2, nothing changed, the error named."""
    problems = []
    want = [l for l in read_bytes(error_path).decode("utf-8").splitlines() if l.strip()]
    with tempfile.TemporaryDirectory(prefix="golden-") as tmp:
        write_bytes(os.path.join(tmp, "input.py"), input_bytes)
        for mode in (["--diff"], [], ["--fix"]):
            rc, out, err = run([spipfix] + mode + args + ["input.py"], tmp)
            text = err.decode("utf-8", "backslashreplace")
            if rc != 2:
                problems.append("spipfix %s: exit code %d, want 2 (the target cannot compile input.py)"
                                % (" ".join(mode) or "(report)", rc))
            for line in want:
                if line not in text:
                    problems.append("spipfix %s: stderr lacks %r:\n%s" % (" ".join(mode) or "(report)",
                                                                          line, indent(text)))
            if b"All checks passed" in out + err:
                problems.append("spipfix %s says All checks passed! on a file it cannot compile"
                                % (" ".join(mode) or "(report)"))
            if read_bytes(os.path.join(tmp, "input.py")) != input_bytes:
                problems.append("spipfix %s changed a file it cannot compile" % " ".join(mode))
    return problems


def run_case(case_dir, case_name, spipfix, update):
    """Run one case.  Returns a list of failure messages (empty = pass)."""
    problems = []
    input_bytes = read_bytes(os.path.join(case_dir, "input.py"))
    args = []
    args_path = os.path.join(case_dir, "args")
    if os.path.exists(args_path):
        args = shlex.split(read_bytes(args_path).decode("utf-8"))
    # a case under golden/SPFnnn/ runs that rule alone unless its args choose;
    # cases under other folders (golden/multipass/) run every rule
    rule = os.path.basename(os.path.dirname(case_dir))
    if re.fullmatch(r"SPF\d+", rule) and not any(a.startswith("--select") for a in args):
        args = ["--select", rule] + args
    if TARGET_ARGS:
        args = TARGET_ARGS + args
    error_path = os.path.join(case_dir, "expected.%s.error" % TARGET)
    if os.path.exists(error_path):
        return run_error_case(case_dir, spipfix, args, input_bytes, error_path)
    expected_path = version_file(case_dir, "expected", "diff")
    driver_path = os.path.join(case_dir, "driver.py")

    with tempfile.TemporaryDirectory(prefix="golden-") as tmp:
        # 1. --diff
        diff_dir = os.path.join(tmp, "diff")
        os.mkdir(diff_dir)
        write_bytes(os.path.join(diff_dir, "input.py"), input_bytes)
        rc, actual, err = run([spipfix, "--diff"] + args + ["input.py"], diff_dir)
        if rc not in (0, 1):
            problems.append("spipfix --diff failed: " + describe(rc, err))
        if read_bytes(os.path.join(diff_dir, "input.py")) != input_bytes:
            problems.append("spipfix --diff modified input.py")

        if update:
            write_bytes(expected_path, actual)
        if not os.path.exists(expected_path):
            problems.append("missing expected.diff (run with --update)")
            return problems
        expected = read_bytes(expected_path)

        if actual != expected:
            problems.append("diff output differs from expected.diff:\n"
                            + indent(show_bytes_diff(expected, actual,
                                                     "expected", "actual")))
        if rc in (0, 1):
            want_rc = 1 if actual else 0
            if rc != want_rc:
                problems.append("spipfix --diff exit code %d, want %d (%s diff)"
                                % (rc, want_rc, "non-empty" if actual else "empty"))

        # 1b. the diagnostics, for cases that pin them
        report_path = version_file(case_dir, "expected", "report")
        if not os.path.exists(report_path) and not update:
            problems.append("missing expected.report (run with --update)")
        else:
            rc, report, err = run([spipfix] + args + ["input.py"], diff_dir)
            if rc not in (0, 1):
                problems.append("spipfix (report) failed: " + describe(rc, err))
            if update:
                write_bytes(report_path, report)
            want_report = read_bytes(report_path)
            if report != want_report:
                problems.append("diagnostics differ from expected.report:\n"
                                + indent(show_bytes_diff(want_report, report,
                                                         "expected", "actual")))

        # 2. --fix: must yield the file expected.diff describes, idempotently
        fix_dir = os.path.join(tmp, "fix")
        os.mkdir(fix_dir)
        fix_input = os.path.join(fix_dir, "input.py")
        write_bytes(fix_input, input_bytes)
        rc, _, err = run([spipfix, "--fix"] + args + ["input.py"], fix_dir)
        if rc not in (0, 1):
            problems.append("spipfix --fix failed: " + describe(rc, err))
        fixed = read_bytes(fix_input)
        try:
            want_fixed = apply_unified_diff(input_bytes, expected)
        except CaseFailure as exc:
            problems.append("cannot apply expected.diff to input.py: %s" % exc)
            want_fixed = None
        if not expected:
            if fixed != input_bytes:
                problems.append("spipfix --fix changed a file that must not change:\n"
                                + indent(show_bytes_diff(input_bytes, fixed,
                                                         "input.py", "fixed")))
        else:
            if fixed == input_bytes:
                problems.append("spipfix --fix left input.py unchanged")
            elif want_fixed is not None and fixed != want_fixed:
                problems.append("spipfix --fix result differs from input.py + "
                                "expected.diff:\n"
                                + indent(show_bytes_diff(want_fixed, fixed,
                                                         "expected", "fixed")))
        rc, _, err = run([spipfix, "--fix"] + args + ["input.py"], fix_dir)
        if rc not in (0, 1):
            problems.append("second spipfix --fix failed: " + describe(rc, err))
        refixed = read_bytes(fix_input)
        if refixed != fixed:
            problems.append("second spipfix --fix changed the file again "
                            "(not idempotent):\n"
                            + indent(show_bytes_diff(fixed, refixed,
                                                     "first-fix", "second-fix")))

        # 3. driver: behaviour must not change
        if os.path.exists(driver_path) and expected:
            driver = read_bytes(driver_path)
            orig_dir = os.path.join(tmp, "orig")
            os.mkdir(orig_dir)
            write_bytes(os.path.join(orig_dir, "input.py"), input_bytes)
            write_bytes(os.path.join(orig_dir, "driver.py"), driver)
            write_bytes(os.path.join(fix_dir, "driver.py"), driver)
            # the driver must see the once-fixed file
            write_bytes(fix_input, fixed)
            env = driver_env()
            o_rc, o_out, o_err = run([PYTHON, "driver.py"], orig_dir, env)
            f_rc, f_out, f_err = run([PYTHON, "driver.py"], fix_dir, env)
            if o_rc != 0:
                problems.append("driver fails on the original input.py: "
                                + describe(o_rc, o_err))
            if (o_rc, o_out) != (f_rc, f_out):
                msg = "driver output changed by the fix"
                if o_rc != f_rc:
                    msg += " (exit code %d -> %d)" % (o_rc, f_rc)
                msg += ":\n" + indent(show_bytes_diff(o_out, f_out,
                                                      "original", "fixed"))
                if f_err.strip():
                    msg += "\n  driver stderr on fixed file:\n" + indent(
                        f_err.decode("utf-8", "backslashreplace"))
                problems.append(msg)
    return problems


def find_cases(golden_dir, substr):
    cases = []
    for pass_name in sorted(os.listdir(golden_dir)):
        pass_dir = os.path.join(golden_dir, pass_name)
        if not os.path.isdir(pass_dir):
            continue
        for case in sorted(os.listdir(pass_dir)):
            case_dir = os.path.join(pass_dir, case)
            if not os.path.isfile(os.path.join(case_dir, "input.py")):
                continue
            name = "%s/%s" % (pass_name, case)
            if substr and substr not in name:
                continue
            cases.append((name, case_dir))
    return cases


def main(argv=None):
    global PYTHON, TARGET, TARGET_ARGS
    ap = argparse.ArgumentParser(description="Run spipfix golden cases.")
    ap.add_argument("--spipfix", required=True, help="path to the spipfix binary")
    ap.add_argument("--update", action="store_true",
                    help="write the actual output into expected.diff and expected.report")
    ap.add_argument("--filter", default="", metavar="SUBSTR",
                    help="only run cases whose <pass>/<case> contains SUBSTR")
    ap.add_argument("--target-version", metavar="pyXY",
                    help="run spipfix with this --target-version (default: spipfix's, py311)")
    ap.add_argument("--python", default=PYTHON, metavar="PATH",
                    help="the interpreter that runs the drivers (default /usr/bin/python3)")
    ap.add_argument("golden_dir")
    opts = ap.parse_args(argv)
    PYTHON = opts.python
    if opts.target_version:
        TARGET = opts.target_version
        TARGET_ARGS = ["--target-version", TARGET]

    spipfix = os.path.abspath(opts.spipfix)
    if not os.path.isdir(opts.golden_dir):
        print("golden_run: no such directory: %s" % opts.golden_dir, file=sys.stderr)
        print("0 passed, 1 failed")
        return 1

    passed = failed = 0
    for name, case_dir in find_cases(opts.golden_dir, opts.filter):
        try:
            problems = run_case(case_dir, name, spipfix, opts.update)
        except CaseFailure as exc:
            problems = [str(exc)]
        except Exception as exc:  # a runner bug must not hide other cases
            problems = ["runner error: %r" % (exc,)]
        if problems:
            failed += 1
            print("FAIL %s" % name)
            for p in problems:
                print(indent(p.rstrip("\n") + "\n"), end="")
        else:
            passed += 1
            print("PASS %s" % name)
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Every client sees what the engine does.

  * JSON edits, applied one after the other in the order they are listed (as an editor or a bot
    that reads `--format json` applies them), give the text `--fix` writes: over the golden
    inputs and the standard library files that hold exactly one safe fix.
  * `--trace-profile` goes through the engine's suppression stage: a `# noqa` finding is neither
    listed nor fixed.
  * An unknown subcommand is an error that names it; a bare word that is a file is a path.
  * The summary never says "All checks passed!" in a run that had errors.
  * `--format sarif` is SARIF 2.1.0 with the structure code scanning reads.

Usage: /usr/bin/python3 tests/engine_clients_test.py --spipfix PATH --golden DIR [--stdlib DIR]
"""

import argparse
import glob
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, summary  # noqa: E402

SPIPFIX = None


def run(args, cwd=None, stdin=None):
    p = subprocess.run([SPIPFIX, *args], cwd=cwd, input=stdin, capture_output=True, timeout=900)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def offset(text, loc):
    """Character offset of a 1-based {row, column} (column in Unicode characters) in text."""
    row, col = loc["row"], loc["column"]
    at = 0
    for _ in range(row - 1):
        at = text.index("\n", at) + 1
    return at + col - 1


def apply_in_listed_order(text, edits):
    """Apply edits one after the other, each at its original position shifted by what the
    edits before it inserted or removed (how a client applies Ruff's JSON edits)."""
    out, at = [], 0
    for e in edits:
        s, t = offset(text, e["location"]), offset(text, e["end_location"])
        if s < at:
            return None  # an edit before the previous one: the order is not the applier's
        out.append(text[at:s])
        out.append(e["content"])
        at = t
    out.append(text[at:])
    return "".join(out)


def select_args(case_dir):
    args = []
    af = os.path.join(case_dir, "args")
    if os.path.exists(af):
        args = shlex.split(open(af).read())
    rule = os.path.basename(os.path.dirname(case_dir))
    if rule.startswith("SPF") and "--select" not in args:
        args = ["--select", rule] + args
    return args


def json_vs_fix(path, args, label):
    """Returns True when the file had exactly one safe fix and was compared."""
    raw = open(path, "rb").read()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw[3 if bom else 0:].decode("utf-8")
    rc, out, err = run(["--no-cache", "--isolated", "--format", "json", "--exit-zero", *args, path])
    try:
        items = json.loads(out)
    except ValueError:
        return False
    safe = [i for i in items if i["fix"] and i["fix"]["applicability"] == "safe"]
    if len(safe) != 1:
        return False
    got = apply_in_listed_order(text, safe[0]["fix"]["edits"])
    rc, fixed, err = run(["--no-cache", "--isolated", "--fix", "--exit-zero", *args, "--stdin-filename", path, "-"],
                         stdin=raw)
    want = fixed.encode("utf-8")
    mine = ((b"\xef\xbb\xbf" if bom else b"") + got.encode("utf-8")) if got is not None else None
    check(f"JSON edits in listed order equal --fix: {label}", mine == want,
          f"\n--- json edits applied\n{got}\n--- --fix\n{fixed}")
    return True


def json_order(golden, stdlib):
    n = 0
    for case in sorted(glob.glob(os.path.join(golden, "*", "*"))):
        inp = os.path.join(case, "input.py")
        if os.path.exists(inp):
            n += json_vs_fix(inp, select_args(case), os.path.relpath(case, golden))
    check("golden inputs with one safe fix were compared", n >= 20, n)
    if not stdlib:
        return
    # the standard library files with one safe fix, among its top-level modules (a sanitizer
    # build is slow): found with one jsonl run
    top = sorted(glob.glob(os.path.join(stdlib, "*.py")))
    rc, out, err = run(["--no-cache", "--isolated", "--format", "jsonl", "--exit-zero", *top])
    per_file = {}
    for line in out.splitlines():
        i = json.loads(line)
        if i["fix"] and i["fix"]["applicability"] == "safe":
            per_file[i["filename"]] = per_file.get(i["filename"], 0) + 1
    ones = sorted(f for f, k in per_file.items() if k == 1)
    check("the standard library has files with one safe fix", len(ones) >= 10, len(ones))
    random.Random(11).shuffle(ones)
    compared = sum(json_vs_fix(f, [], os.path.relpath(f, stdlib)) for f in ones[:60])
    check("standard library files were compared", compared >= 10, compared)


def trace_noqa(d):
    app = os.path.join(d, "app.py")
    with open(app, "w") as f:
        f.write("def outer(xs):\n"
                "    def kept(x):\n"
                "        return -x\n"
                "    def hidden(x):  # noqa: SPF101\n"
                "        return x\n"
                "    return sorted(xs, key=kept) + sorted(xs, key=hidden)\n"
                "\n"
                "\n"
                "for _ in range(3):\n"
                "    outer([3, 1, 2])\n")
    rc, out, err = run(["trace", "--format", "json", "-o", os.path.join(d, "t.json"), app], cwd=d)
    check("trace writes a JSON trace", rc == 0 and os.path.exists(os.path.join(d, "t.json")), err)
    rc, out, err = run(["--no-cache", "--trace-profile", "t.json", "app.py"], cwd=d)
    check("--trace-profile reports the finding with its count", "kept" in out and "executed 3 times" in out, out)
    check("--trace-profile does not report a # noqa finding", "hidden" not in out, out)
    rc, out, err = run(["--no-cache", "--diff", "--trace-profile", "t.json", "app.py"], cwd=d)
    check("--diff --trace-profile lists the finding on stderr", "kept" in err, err)
    check("--diff --trace-profile neither lists nor fixes a # noqa finding",
          "hidden" not in err and "_outer_hidden" not in out and "_outer_kept" in out, out + err)


def subcommands(d):
    rc, out, err = run(["frobnicate"], cwd=d)
    check("an unknown subcommand is an error that names it",
          rc == 2 and "unrecognized subcommand `frobnicate`" in err and "No such file" not in err, err)
    rc, out, err = run(["chek"], cwd=d)
    check("a mistyped subcommand gets a suggestion", rc == 2 and "did you mean `check`" in err, err)
    with open(os.path.join(d, "frobnicate"), "w") as f:
        f.write("x = 1\n")
    rc, out, err = run(["frobnicate"], cwd=d)
    check("a bare word that is a file is a path", rc == 0 and "All checks passed!" in out, out + err)
    rc, out, err = run(["help"], cwd=d)
    check("`spipfix help` lists the commands", rc == 0 and all(c in out for c in
                                                                ("check", "rule", "bench", "profile", "trace")), out)
    rc, out, err = run(["check", "frobnicate"], cwd=d)
    check("`spipfix check PATH` works", rc == 0, out + err)


def summary_on_errors(d):
    with open(os.path.join(d, "bad.py"), "w") as f:
        f.write("def f(:\n    pass\n")
    with open(os.path.join(d, "good.py"), "w") as f:
        f.write("x = 1\n")
    for args, label in ((["missing.py"], "a missing path"), (["bad.py", "good.py"], "a syntax error"),
                        (["--fix", "bad.py", "good.py"], "a syntax error under --fix")):
        rc, out, err = run(["--no-cache", *args], cwd=d)
        check(f"{label}: exit 2 and no 'All checks passed!'",
              rc == 2 and "All checks passed!" not in out + err and "could not be analysed" in err, out + err)


def sarif(d):
    src = os.path.join(d, "s.py")
    with open(src, "w") as f:
        f.write("import re\n\n\ndef outer(xs):\n    def key(x):\n        return -x\n"
                "    return sorted(xs, key=key)\n\n\ndef escape(fs):\n"
                "    fs.append(lambda: 1)\n    return fs\n")
    rc, out, err = run(["--no-cache", "--format", "sarif", "s.py"], cwd=d)
    try:
        doc = json.loads(out)
    except ValueError:
        check("SARIF output is one JSON document", False, out)
        return
    check("SARIF version 2.1.0", doc.get("version") == "2.1.0" and "sarif-2.1.0" in doc.get("$schema", ""), out)
    runs = doc.get("runs", [])
    check("one run", len(runs) == 1, runs)
    drv = runs[0]["tool"]["driver"]
    ids = [r["id"] for r in drv.get("rules", [])]
    check("the driver lists every rule", drv.get("name") == "spipfix" and
          {"SPF101", "SPF102", "SPF201", "SPF301"} <= set(ids), ids)
    check("each rule has its documentation", all(r["fullDescription"]["text"] and r["help"]["text"]
                                                 and r["shortDescription"]["text"] for r in drv["rules"]), drv)
    results = runs[0].get("results", [])
    rc, js, err = run(["--no-cache", "--format", "json", "s.py"], cwd=d)
    items = json.loads(js)
    check("one result per finding", len(results) == len(items) and len(results) >= 2, results)
    for res, it in zip(results, items):
        reg = res["locations"][0]["physicalLocation"]["region"]
        ok = (res["ruleId"] == it["code"] and res["level"] in ("warning", "note", "error")
              and res["message"]["text"].startswith(it["message"])
              and res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "s.py"
              and (reg["startLine"], reg["startColumn"]) == (it["location"]["row"], it["location"]["column"])
              and (reg["endLine"], reg["endColumn"]) == (it["end_location"]["row"], it["end_location"]["column"])
              and drv["rules"][res["ruleIndex"]]["id"] == res["ruleId"])
        check(f"result {it['code']} at {it['location']['row']}: ruleId, level, message, region", ok, res)
        if it["fix"]:
            reps = res["fixes"][0]["artifactChanges"][0]["replacements"]
            check(f"result {it['code']} carries its fix", len(reps) == len(it["fix"]["edits"]) and
                  [r["insertedContent"]["text"] for r in reps] == [e["content"] for e in it["fix"]["edits"]], res)
    rc, out, err = run(["--no-cache", "--format", "sarif", "good.py"], cwd=d)
    doc = json.loads(out)
    check("SARIF with nothing found has an empty results array", doc["runs"][0]["results"] == [], out)


def main():
    global SPIPFIX
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", required=True)
    ap.add_argument("--golden", required=True)
    ap.add_argument("--stdlib", default="/usr/lib/python3.11")
    a = ap.parse_args()
    SPIPFIX = os.path.abspath(a.spipfix)
    with tempfile.TemporaryDirectory() as d:
        subcommands(d)
        summary_on_errors(d)
        sarif(d)
        trace_noqa(d)
    json_order(a.golden, a.stdlib if os.path.isdir(a.stdlib) else None)
    return summary()


if __name__ == "__main__":
    sys.exit(main())

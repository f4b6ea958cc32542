"""The command-line contract: exit codes, output streams, bad input left byte for byte, other
files still processed, atomic in-place writes. Run with Debian's /usr/bin/python3."""
import argparse
import os
import re
import stat
import subprocess
import sys
import tempfile

from checks import check, summary

CLOSURE_FREE = "def outer(xs):\n    def key(x):\n        return -x\n    return sorted(xs, key=key)\n"
CLEAN = "def f(x):\n    return x + 1\n"


def run(args, cwd, stdin=None):
    p = subprocess.run([SPIPFIX, *args], cwd=cwd, capture_output=True, timeout=120,
                       input=stdin.encode() if isinstance(stdin, str) else stdin,
                       stdin=None if stdin is not None else subprocess.DEVNULL)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def write(d, name, data):
    path = os.path.join(d, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    with tempfile.TemporaryDirectory() as d:
        write(d, "clean.py", CLEAN)
        rc, out, err = run(["clean.py"], d)
        check("clean file exits 0", rc == 0, f"rc={rc} {err}")
        check("clean file says all checks passed", "All checks passed!" in out, out)

        write(d, "a.py", CLOSURE_FREE)
        rc, out, err = run(["a.py"], d)
        check("finding exits 1", rc == 1, f"rc={rc}")
        check("diagnostic format", out.startswith("a.py:2:9: SPF101 ") and "[*]" in out.splitlines()[0], out)
        check("summary line", "Found 1 finding." in out, out)

        rc, out, err = run(["--check", "a.py"], d)
        check("--check prints only findings", rc == 1 and out.count("\n") == 1 and "Found" not in out, out)

        rc, out, err = run(["--diff", "a.py"], d)
        check("--diff exits 1 with a diff", rc == 1 and out.startswith("--- a.py\n+++ a.py\n@@"), out)
        check("--diff writes nothing", read(os.path.join(d, "a.py")) == CLOSURE_FREE.encode())

        rc, out, err = run(["--diff", "clean.py"], d)
        check("--diff exits 0 without a diff", rc == 0 and out == "", f"rc={rc} {out}")

        os.chmod(os.path.join(d, "a.py"), 0o640)
        rc, out, err = run(["--fix", "a.py"], d)
        fixed = read(os.path.join(d, "a.py")).decode()
        check("--fix rewrites", "def _outer_key(x):" in fixed and "key=_outer_key" in fixed, fixed)
        check("--fix exits 0 when all fixed", rc == 0, f"rc={rc} {out} {err}")
        check("--fix keeps the mode", stat.S_IMODE(os.stat(os.path.join(d, "a.py")).st_mode) == 0o640)
        check("--fix leaves no temp file", [n for n in os.listdir(d) if "spipfix-" in n] == [])
        rc, out, err = run(["--fix", "a.py"], d)
        check("second --fix changes nothing", read(os.path.join(d, "a.py")).decode() == fixed and rc == 0)

        # bad input: reported, left byte for byte, the other files still processed
        bad = {
            "nul.py": b"def f():\n    def g(): pass\n\x00\n",
            "latin.py": b"def f():\n    s = '\xe9'\n    def g(): pass\n",
            "cookie.py": b"# -*- coding: latin-1 -*-\ndef f():\n    s = '\xe9'\n    def g(): pass\n",
            "syntax.py": b"def f(:\n    def g(): pass\n",
        }
        # syntax newer than the target (SPIPFIX_TARGET_VERSION: CI runs this file per version)
        if os.environ.get("SPIPFIX_TARGET_VERSION", "py311") == "py311":
            bad["py312.py"] = b"type Alias = int\ndef f():\n    def g(): pass\n    return g()\n"
        for name, data in bad.items():
            write(d, "bad/" + name, data)
        write(d, "bad/good.py", CLOSURE_FREE)
        rc, out, err = run(["--fix", "bad"], d)
        check("bad input exits 2", rc == 2, f"rc={rc}")
        for name, data in bad.items():
            check(f"bad input {name} untouched", read(os.path.join(d, "bad", name)) == data)
            check(f"bad input {name} reported", f"bad/{name}" in err, err)
        check("good file next to bad ones still fixed", "_outer_key" in read(os.path.join(d, "bad/good.py")).decode())
        if "py312.py" in bad:
            check("py312 error names the interpreter", "cannot compile" in err, err)

        rc, out, err = run(["missing.py", "clean.py"], d)
        check("missing path exits 2", rc == 2 and "missing.py" in err, f"rc={rc} {err}")

        # folder walking: skipped folders, symlink loops
        write(d, "tree/pkg/m.py", CLOSURE_FREE)
        for skip in (".git", "__pycache__", "build", "dist", "site-packages", "venv"):
            write(d, f"tree/{skip}/m.py", CLOSURE_FREE)
        write(d, "tree/venv/pyvenv.cfg", "home = /usr/bin\n")
        os.symlink("..", os.path.join(d, "tree/pkg/loop"))
        rc, out, err = run(["--check", "tree"], d)
        check("folder walk finds pkg/m.py only", out.count("SPF101") == 1 and "tree/pkg/m.py" in out, out + err)
        check("symlink loop does not hang or fail", rc == 1, f"rc={rc} {err}")

        rc, out, err = run(["--frobnicate", "a.py"], d)
        check("unknown option exits 2", rc == 2, f"rc={rc}")
        rc, out, err = run([], d)
        check("no paths exits 2", rc == 2, f"rc={rc}")
        rc, out, err = run(["--help"], d)
        check("--help lists rules", rc == 0 and "SPF101" in out and "--unsafe-fixes" in out, out)

        # CRLF and BOM survive a fix byte for byte outside the edit
        data = b"\xef\xbb\xbfimport os\r\n\r\n\r\ndef outer():\r\n    def inner():\r\n        return os.sep\r\n    return inner()\r\n"
        p = write(d, "crlf.py", data)
        rc, out, err = run(["--fix", "crlf.py"], d)
        new = read(p)
        check("BOM kept", new.startswith(b"\xef\xbb\xbf"), repr(new[:10]))
        check("CRLF kept", b"\n" not in new.replace(b"\r\n", b""), repr(new))
        stdin_mode(d)
        formats(d)
        suppressions(d)
        configuration(d)
        gitignore(d)
        flags(d)
        rules(d)
        filter_mode(d)
        colors(d)
        did_you_mean(d)
        show_fixes_fix_only(d)
        add_noqa(d)
    return summary()


def stdin_mode(d):
    """Editor use: the buffer comes from stdin, the whole result goes to stdout."""
    write(d, "ref/app.py", CLOSURE_FREE)
    run(["--fix", "ref/app.py"], d)
    expected = read(os.path.join(d, "ref/app.py"))
    check("reference fix changed the file", expected != CLOSURE_FREE.encode())
    rc, out, err = run(["--fix", "--stdin-filename", "src/app.py", "-"], d, stdin=CLOSURE_FREE)
    check("stdin --fix prints the fixed source", out.encode() == expected, out)
    check("stdin --fix exits 0 when all fixed", rc == 0, f"rc={rc} {err}")
    check("stdin --fix writes no file", not os.path.exists(os.path.join(d, "src/app.py")))
    rc, out, err = run(["--fix", "--stdin-filename", "src/app.py"], d, stdin=CLOSURE_FREE)
    check("--stdin-filename without `-` reads stdin", out.encode() == expected, out)
    rc, out, err = run(["--fix", "-"], d, stdin=CLEAN)
    check("stdin --fix with nothing to fix echoes the buffer", out == CLEAN and rc == 0, f"rc={rc} {out!r}")
    rc, out, err = run(["--diff", "--stdin-filename", "src/app.py", "-"], d, stdin=CLOSURE_FREE)
    check("stdin --diff prints a diff named by --stdin-filename",
          rc == 1 and out.startswith("--- src/app.py\n+++ src/app.py\n@@") and "+def _outer_key(x):" in out, out)
    rc, out, err = run(["--stdin-filename", "src/app.py"], d, stdin=CLOSURE_FREE)
    check("stdin report names the file", rc == 1 and out.startswith("src/app.py:2:9: SPF101 "), out)
    for name, data in {"syntax": b"def f(:\n    def g(): pass\n",
                       "nul": b"def f():\n    def g(): pass\n\x00\n",
                       "latin1": b"def f():\n    s = '\xe9'\n    def g(): pass\n"}.items():
        p = subprocess.run([SPIPFIX, "--fix", "--stdin-filename", "bad.py", "-"], cwd=d, input=data,
                           capture_output=True, timeout=60)
        check(f"stdin --fix on {name} input leaves the buffer unchanged", p.stdout == data, repr(p.stdout))
        check(f"stdin --fix on {name} input says why on stderr",
              p.returncode == 2 and b"bad.py" in p.stderr, f"rc={p.returncode} {p.stderr!r}")
    data = b"\xef\xbb\xbfimport os\r\n\r\n\r\ndef outer():\r\n    def inner():\r\n        return os.sep\r\n    return inner()\r\n"
    p = subprocess.run([SPIPFIX, "--fix", "-"], cwd=d, input=data, capture_output=True, timeout=60)
    check("stdin --fix keeps BOM and CRLF", p.stdout.startswith(b"\xef\xbb\xbf") and b"_outer_inner" in p.stdout
          and b"\n" not in p.stdout.replace(b"\r\n", b""), repr(p.stdout))
    rc, out, err = run(["--fix", "-", "a.py"], d, stdin=CLEAN)
    check("`-` with other paths is a usage error", rc == 2, f"rc={rc}")


NON_ASCII = ("def outer(xs):\n"
             "    \u00e9t\u00e9 = \"\u00fc\u2603\U0001F600\"; f = lambda x: -x\n"
             "    return sorted(xs, key=f) + [\u00e9t\u00e9]\n")
DECORATED = ("import functools\n\n\ndef table(n):\n    @functools.lru_cache(maxsize=None)\n"
             "    def cost(k):\n        return k * k\n    return [cost(i) for i in range(n)]\n")
CAPTURING_IN_LOOP = ("def f(xs, limit):\n    out = []\n    for x in xs:\n        def check(v):\n"
                     "            return v < limit\n        out.append(check(x))\n    return out\n")
RUFF_KEYS = {"cell", "code", "end_location", "filename", "fix", "location", "message", "noqa_row", "url"}


def char_offset(lines, loc):
    """Offset in the text of a 1-based (row, column counted in characters) location."""
    return sum(len(l) for l in lines[:loc["row"] - 1]) + loc["column"] - 1


def apply_edits(text, edits):
    lines = text.splitlines(keepends=True)
    for e in sorted(edits, key=lambda e: (e["location"]["row"], e["location"]["column"]), reverse=True):
        a, b = char_offset(lines, e["location"]), char_offset(lines, e["end_location"])
        text = text[:a] + e["content"] + text[b:]
    return text


def formats(d):
    """--format text|concise|json|jsonl|github; JSON in Ruff's shape with character columns."""
    import json
    import re
    write(d, "fmt/u.py", NON_ASCII)
    write(d, "fmt/dec.py", DECORATED)
    write(d, "fmt/loop.py", CAPTURING_IN_LOOP)
    rc, out, err = run(["--format", "json", "fmt/u.py"], d)
    try:
        items = json.loads(out)
    except ValueError as e:
        items = []
        check("json output parses", False, f"{e}: {out}")
    check("json is an array with one finding", rc == 1 and len(items) == 1, out)
    if items:
        it = items[0]
        check("json has Ruff's keys plus name and spipfix", set(it) == RUFF_KEYS | {"name", "spipfix"}, sorted(it))
        line = NON_ASCII.splitlines()[1]
        want_col = line.index("lambda") + 1
        check("non-ASCII line: byte and character columns differ", len(line[:want_col].encode()) + 1 != want_col)
        check("json column counts Unicode characters", it["location"] == {"row": 2, "column": want_col},
              it["location"])
        check("json end column counts characters",
              it["end_location"] == {"row": 2, "column": line.index("lambda") + len("lambda") + 1},
              it["end_location"])
        check("json names the rule and file", it["code"] == "SPF101" and it["name"] == "closure-free-nested-def"
              and it["filename"] == os.path.join(d, "fmt/u.py") and it["noqa_row"] == 2, it)
        check("json fix is safe with edits", it["fix"] and it["fix"]["applicability"] == "safe"
              and it["fix"]["edits"] and it["fix"]["message"], it["fix"])
        check("json bytecode facts", it["spipfix"]["code_object"]["co_freevars"] == []
              and it["spipfix"]["code_object"]["qualname"] == "outer.<locals>.<lambda>"
              and it["spipfix"]["code_object"]["kind"] == "lambda", it["spipfix"])
        # the edits, applied in character coordinates, give exactly what --fix writes
        rewritten = apply_edits(NON_ASCII, it["fix"]["edits"])
        write(d, "fmt/u_fixed.py", NON_ASCII)
        run(["--fix", "fmt/u_fixed.py"], d)
        check("json edits applied by character columns == --fix result",
              rewritten == read(os.path.join(d, "fmt/u_fixed.py")).decode(), rewritten)
    rc, out, err = run(["--format", "json", "fmt/dec.py", "fmt/loop.py"], d)
    items = json.loads(out) if out.startswith("[") else []
    by = {(i["filename"].rsplit("/", 1)[1], i["code"]): i for i in items}
    names = [i["filename"].rsplit("/", 1)[1] for i in items]
    check("json over two files in order", names == sorted(names) and set(names) == {"dec.py", "loop.py"}, out)
    dec = by.get(("dec.py", "SPF101"))
    check("json unsafe fix", dec and dec["fix"] and dec["fix"]["applicability"] == "unsafe"
          and "decorat" in dec["spipfix"]["reason"], dec)
    loop = by.get(("loop.py", "SPF102"))
    check("json report-only finding has fix null", loop and loop["fix"] is None
          and loop["spipfix"]["code_object"]["co_freevars"] == ["limit"]
          and loop["spipfix"]["code_object"]["built_in_loop"] is True, loop)
    rc, out, err = run(["--format", "json", "--stdin-filename", "src/app.py", "-"], d, stdin=NON_ASCII)
    got = json.loads(out) if out.startswith("[") else []
    check("json from stdin (an editor's quick-fix menu)", len(got) == 1
          and got[0]["filename"] == os.path.join(d, "src/app.py") and got[0]["fix"]["edits"], out)
    hoist = "import re\n\n\ndef words(text):\n    return re.compile(r\"\\w+\").findall(text)\n"
    rc, out, err = run(["--format", "json", "--stdin-filename", "h.py", "-"], d, stdin=hoist)
    got = json.loads(out) if out.startswith("[") else []
    msg = got[0]["fix"]["message"] if got and got[0]["fix"] else ""
    check("json SPF201 hoist says the callee is looked up once, at import",
          got and got[0]["code"] == "SPF201" and "once at import" in msg and "monkeypatch of `re.compile`" in msg, out)
    rc, out, err = run(["--format", "json", "clean.py"], d)
    check("json with nothing found is []", rc == 0 and out == "[]\n", out)
    rc, out, err = run(["--format", "jsonl", "fmt/dec.py", "fmt/loop.py"], d)
    lines = out.splitlines()
    check("jsonl: one object per line, same as json", [json.loads(l) for l in lines] == items, out)
    rc, out, err = run(["--format", "github", "fmt/u.py"], d)
    check("github annotation: a safe fix is a warning", re.fullmatch(
        r"::warning title=spipfix \(SPF101\),file=%s,line=2,col=%d,endLine=2,endColumn=%d::fmt/u.py:2:%d: "
        r"SPF101 \[\*\] Lambda[^\n]*\n" % (re.escape(os.path.join(d, "fmt/u.py")), want_col,
                                          want_col + len("lambda"), want_col), out) is not None, out)
    rc, out, err = run(["--format", "github", "fmt/dec.py", "fmt/loop.py"], d)
    lines = out.splitlines()
    check("github: an unsafe fix is a warning with its reason", any(
        l.startswith("::warning title=spipfix (SPF101),") and "fmt/dec.py:6:9: SPF101 Nested" in l
        and l.endswith(")") and "(unsafe fix: " in l and "decorat" in l for l in lines), out)
    check("github: a report-only finding is a notice with its reason", any(
        l.startswith("::notice title=spipfix (SPF102),") and "(no fix: it captures `limit`" in l for l in lines), out)
    check("github: no annotation is an error", not any(l.startswith("::error") for l in lines), out)
    rc, out, err = run(["--format", "concise", "fmt/u.py"], d)
    check("concise line", out.startswith(f"fmt/u.py:2:{want_col}: SPF101 [*] Lambda"), out)
    rc, out, err = run(["--format", "concise", "fmt/dec.py", "fmt/loop.py"], d)
    check("concise keeps why a fix is unsafe or missing",
          re.search(r"^fmt/dec\.py:6:9: SPF101 Nested[^\n]*\(unsafe fix: [^\n]*decorat[^\n]*\)$", out, re.M)
          and re.search(r"^fmt/loop\.py:4:13: SPF102 Function[^\n]*\(no fix: it captures `limit`[^\n]*\)$", out, re.M)
          and "[*]" not in out, out)
    rc, out, err = run(["--format", "xml", "fmt/u.py"], d)
    check("unknown format exits 2", rc == 2 and "xml" in err, err)


def nested(name, comment=""):
    return f"    def {name}(x):{comment}\n        return -x\n"


def suppressions(d):
    """# noqa, # noqa: CODE, # spipfix: ignore[CODE], file-level # spipfix: noqa; never in strings."""
    body = ("def outer(xs):\n"
            + nested("k1", "  # noqa")
            + nested("k2", "  # noqa: SPF102")
            + nested("k3", "  # type: ignore  # NOQA:SPF101")
            + nested("k4", "  # spipfix: ignore[SPF101]")
            + nested("k5", "  # spipfix: ignore[SPF102, SPF101]")
            + nested("k6", "  # spipfix: ignore[SPF999]")
            + nested("k8", "  # noqa: spf101")
            + "    k7 = lambda x: '# noqa' or x\n"
            + "    s = '''\n    # spipfix: noqa\n    '''\n"
            + "    return k1(1), k2(1), k3(1), k4(1), k5(1), k6(1), k8(1), sorted(xs, key=k7), s\n")
    p = write(d, "sup/lines.py", body)
    rc, out, err = run(["--check", "sup/lines.py"], d)
    reported = sorted(re.findall(r"`(k\d)`", out))
    check("noqa suppresses exactly the named lines", reported == ["k2", "k6"], out)
    check("`# noqa` inside a string does not suppress", "sup/lines.py:16:10: SPF101 Lambda" in out, out)
    check("`# spipfix: noqa` inside a string is not file-level", rc == 1, f"rc={rc}")
    rc, out, err = run(["--fix", "sup/lines.py"], d)
    fixed = read(p).decode()
    check("--fix leaves suppressed defs in place", all(f"    def k{i}(x):" in fixed for i in (1, 3, 4, 5))
          and "def _outer_k2" in fixed and "def _outer_k6" in fixed and "def _outer_k1" not in fixed, fixed)
    for name, head in {"whole": "# spipfix: noqa\n", "codes": "# spipfix: noqa: SPF101\n"}.items():
        write(d, f"sup/{name}.py", head + CLOSURE_FREE)
        rc, out, err = run(["--check", f"sup/{name}.py"], d)
        check(f"file-level `{head.strip()}` suppresses the file", rc == 0 and out == "", f"rc={rc} {out}")
    write(d, "sup/other.py", "# spipfix: noqa: SPF102\n" + CLOSURE_FREE)
    rc, out, err = run(["--check", "sup/other.py"], d)
    check("file-level noqa for another rule keeps SPF101", rc == 1 and "SPF101" in out, out)
    write(d, "sup/trailing.py", "import os  # spipfix: noqa\n" + CLOSURE_FREE)
    rc, out, err = run(["--check", "sup/trailing.py"], d)
    check("file-level noqa must be on its own line", rc == 1 and "SPF101" in out, out)


def configuration(d):
    """[tool.spipfix] in the nearest pyproject.toml; the command line overrides it."""
    root = os.path.join(d, "cfg")
    write(root, "pyproject.toml", '[project]\nname = "p"\n\n[tool.spipfix]\nignore = ["SPF101"]\n')
    write(root, "pkg/m.py", CLOSURE_FREE)
    # a pyproject.toml without a [tool.spipfix] table in between is passed over
    write(root, "pkg/pyproject.toml", '[project]\nname = "inner"\n')
    rc, out, err = run(["--check", "m.py"], os.path.join(root, "pkg"))
    check("config: ignore from the nearest [tool.spipfix] above", rc == 0 and out == "", f"rc={rc} {out} {err}")
    rc, out, err = run(["--check", "--select", "SPF101", "m.py"], os.path.join(root, "pkg"))
    check("config: --select on the command line overrides ignore", rc == 1 and "SPF101" in out, out + err)
    rc, out, err = run(["--check", "--isolated", "m.py"], os.path.join(root, "pkg"))
    check("config: --isolated ignores the file", rc == 1 and "SPF101" in out, out + err)
    rc, out, err = run(["--check", "--stdin-filename", "cfg/pkg/m.py"], d, stdin=CLOSURE_FREE)
    check("config: found from the --stdin-filename", rc == 0 and out == "", f"rc={rc} {out} {err}")

    write(root, "pyproject.toml", "[tool.spipfix]\nselect = [\"SPF1\"]\n"
          "extend-exclude = [\"generated\", \"legacy/old_*.py\"]\n"
          "per-file-ignores = { \"tests/*\" = [\"SPF101\"], \"conftest.py\" = [\"SPF\"] }\n")
    for name in ("app/a.py", "generated/g.py", "legacy/old_x.py", "legacy/new_x.py", "tests/t.py",
                 "tests/conftest.py", "build/b.py"):
        write(root, name, CLOSURE_FREE)
    rc, out, err = run(["--check", "."], root)
    files = sorted(set(re.findall(r"^\./(\S+?):", out, re.M)))
    check("config: extend-exclude and per-file-ignores", files == ["app/a.py", "legacy/new_x.py", "pkg/m.py"],
          out + err)
    rc, out, err = run(["--check", "legacy/old_x.py"], root)
    check("config: a path given explicitly is analysed although excluded", rc == 1 and "SPF101" in out, out)
    rc, out, err = run(["--check", "--force-exclude", "legacy/old_x.py", "app/a.py"], root)
    check("config: --force-exclude skips an excluded explicit path",
          "legacy/old_x.py" not in out and "app/a.py" in out, out)
    rc, out, err = run(["--check", "--include-tests", "--per-file-ignores", "app/*:SPF101", "."], root)
    files = sorted(set(re.findall(r"^\./(\S+?):", out, re.M)))
    check("config: --per-file-ignores replaces the file's table", "app/a.py" not in files
          and "tests/t.py" in files, out)
    # test code: no findings unless asked for
    tdir = os.path.join(d, "testcode")
    for name in ("tests/helpers.py", "test/x.py", "pkg/test_a.py", "pkg/a_test.py", "pkg/conftest.py",
                 "pkg/testing.py", "pkg/contest.py"):
        write(tdir, name, CLOSURE_FREE)
    rc, out, err = run(["--check", "."], tdir)
    files = sorted(set(re.findall(r"^\./(\S+?):", out, re.M)))
    check("test code: tests/, test/, test_*.py, *_test.py, conftest.py have no findings by default",
          files == ["pkg/contest.py", "pkg/testing.py"], out + err)
    rc, out, err = run(["--check", "--include-tests", "."], tdir)
    check("test code: --include-tests brings them back", out.count("SPF101") == 7, out + err)
    write(tdir, "pyproject.toml", "[tool.spipfix]\ninclude-tests = true\n")
    rc, out, err = run(["--check", "."], tdir)
    check("test code: include-tests = true in [tool.spipfix]", out.count("SPF101") == 7, out + err)
    rc, out, err = run(["--check", "--no-include-tests", "."], tdir)
    check("test code: --no-include-tests wins over the file", out.count("SPF101") == 2, out + err)
    write(tdir, "pyproject.toml", "[tool.spipfix]\ninclude-tests = \"yes\"\n")
    rc, out, err = run(["--check", "."], tdir)
    check("test code: a non-boolean include-tests is an error", rc == 2 and "include-tests" in err, f"rc={rc} {err}")

    # lift-name, and the line length of [tool.black]
    ldir = os.path.join(d, "liftname")
    write(ldir, "pyproject.toml", '[tool.spipfix]\nlift-name = "_{name}_of_{function}"\n')
    write(ldir, "m.py", CLOSURE_FREE)
    rc, out, err = run(["--diff", "m.py"], ldir)
    check("lift-name: the template names the lifted function", "def _key_of_outer(x):" in out, out + err)
    for bad in ('"_{scope}"', '"_{name}-x"', '"_{nmae}"', "3"):
        write(ldir, "pyproject.toml", f"[tool.spipfix]\nlift-name = {bad}\n")
        rc, out, err = run(["--diff", "m.py"], ldir)
        check(f"lift-name: {bad} is an error naming the key", rc == 2 and "lift-name" in err, f"rc={rc} {err}")
    long_re = ('import re\n\n\ndef f(s):\n    return re.compile(r"(?P<key>[a-z_]+)\\s*=\\s*'
               '(?P<value>[^;]+);\\s*(?P<rest>.*)").match(s)\n')
    write(ldir, "r.py", long_re)
    write(ldir, "pyproject.toml", '[project]\nname = "x"\n\n[tool.black]\nline-length = 100\n')
    rc, out, err = run(["--diff", "r.py"], ldir)
    check("line length: [tool.black] line-length 100 keeps the constant on one line",
          re.search(r"^\+_\w+ = re\.compile\(r\".*\"\)$", out, re.M) is not None, out + err)
    rc, out, err = run(["--diff", "--line-length", "88", "r.py"], ldir)
    check("line length: --line-length 88 splits it as black does",
          re.search(r"^\+_\w+ = re\.compile\($", out, re.M) is not None, out + err)
    write(ldir, "pyproject.toml", '[tool.ruff]\nline-length = 100\n')
    rc, out, err = run(["--diff", "r.py"], ldir)
    check("line length: [tool.ruff] line-length is read too",
          re.search(r"^\+_\w+ = re\.compile\(r\".*\"\)$", out, re.M) is not None, out + err)

    write(root, "pyproject.toml", "[tool.spipfix]\nexclude = [\"legacy\"]\n")
    rc, out, err = run(["--check", "."], root)
    check("config: exclude replaces the default exclusions", "./build/b.py" in out and "legacy" not in out, out)
    rc, out, err = run(["--check", "--exclude", "build,tests,generated", "."], root)
    check("config: --exclude replaces exclude", "legacy/old_x.py" in out and "build" not in out, out)

    write(root, "dec/pyproject.toml", "[tool.spipfix]\nunsafe-fixes = true\n")
    p = write(root, "dec/d.py", DECORATED)
    rc, out, err = run(["--fix", "--no-unsafe-fixes", "d.py"], os.path.join(root, "dec"))
    check("config: --no-unsafe-fixes overrides unsafe-fixes", read(p).decode() == DECORATED, read(p).decode())
    rc, out, err = run(["--fix", "d.py"], os.path.join(root, "dec"))
    check("config: unsafe-fixes = true applies the unsafe fix", "def _table_cost" in read(p).decode(), out + err)

    bad = {
        "unknown key": ("[tool.spipfix]\nselct = [\"SPF101\"]\n", "unknown key `selct`"),
        "wrong type": ("[tool.spipfix]\nselect = \"SPF101\"\n", "`select` must be a list of strings"),
        "wrong item": ("[tool.spipfix]\nignore = [101]\n", "`ignore` must be a list of strings"),
        "wrong bool": ("[tool.spipfix]\nunsafe-fixes = 1\n", "`unsafe-fixes` must be true or false"),
        "bad table": ("[tool.spipfix]\nper-file-ignores = [\"x\"]\n", "`per-file-ignores` must be a table"),
        "unknown rule": ("[tool.spipfix]\nselect = [\"XYZ1\"]\n", "unknown rule `XYZ1`"),
        "invalid toml": ("[tool.spipfix]\nselect = [\n", "invalid TOML"),
    }
    for name, (text, msg) in bad.items():
        cfgfile = write(root, f"bad_{name.replace(' ', '_')}/pyproject.toml", text)
        write(root, f"bad_{name.replace(' ', '_')}/x.py", CLOSURE_FREE)
        rc, out, err = run(["x.py"], os.path.dirname(cfgfile))
        check(f"config error ({name}): exit 2 naming file and key",
              rc == 2 and out == "" and cfgfile in err and msg in err, f"rc={rc} {out} {err}")
    alt = write(root, "alt.toml", "[tool.spipfix]\nignore = [\"SPF101\"]\n")
    rc, out, err = run(["--check", "m.py"], os.path.join(root, "pkg"))
    check("config: without --config the nearest file applies", rc == 1 and "SPF101" in out, out + err)
    rc, out, err = run(["--check", "--config", alt, "m.py"], os.path.join(root, "pkg"))
    check("config: --config names the file to use", rc == 0 and out == "", out + err)


def gitignore(d):
    """Inside a git work tree, folders are walked without what git ignores."""
    root = os.path.join(d, "repo")
    os.makedirs(root)
    subprocess.run(["git", "init", "-q", root], check=True)
    for name in ("src/a.py", "src/b_gen.py", "ignored_dir/c.py", "private.py", "sub/d.py", "sub/e.py"):
        write(root, name, CLOSURE_FREE)
    write(root, ".gitignore", "ignored_dir/\n*_gen.py\n")
    write(root, "sub/.gitignore", "e.py\n")
    with open(os.path.join(root, ".git/info/exclude"), "a") as f:
        f.write("private.py\n")
    rc, out, err = run(["--check", "."], root)
    files = sorted(set(re.findall(r"^\./(\S+?):", out, re.M)))
    check("gitignore: .gitignore (nested too) and .git/info/exclude respected", files == ["src/a.py", "sub/d.py"],
          out + err)
    rc, out, err = run(["--check", "."], os.path.join(root, "sub"))
    check("gitignore: respected from a subfolder", out.count("SPF101") == 1 and "d.py" in out, out)
    rc, out, err = run(["--check", "private.py", "src/b_gen.py"], root)
    check("gitignore: explicit paths are analysed", out.count("SPF101") == 2, out)
    rc, out, err = run(["--check", "--force-exclude", "private.py", "src/b_gen.py", "ignored_dir/c.py", "src/a.py"],
                       root)
    check("gitignore: --force-exclude skips ignored explicit paths", out.count("SPF101") == 1 and "src/a.py" in out,
          out)
    rc, out, err = run(["--check", "--no-respect-gitignore", "."], root)
    check("gitignore: --no-respect-gitignore walks everything", out.count("SPF101") == 6, out)
    write(root, "pyproject.toml", "[tool.spipfix]\nrespect-gitignore = false\n")
    rc, out, err = run(["--check", "."], root)
    check("gitignore: respect-gitignore = false in the config", out.count("SPF101") == 6, out)


def flags(d):
    """--exit-zero, --exit-non-zero-on-fix, --statistics, --quiet, --silent, --version, --help."""
    write(d, "fl/a.py", CLOSURE_FREE)
    write(d, "fl/b.py", CLOSURE_FREE + CAPTURING_IN_LOOP)
    rc, out, err = run(["--exit-zero", "fl"], d)
    check("--exit-zero exits 0 with findings", rc == 0 and "SPF101" in out, f"rc={rc}")
    rc, out, err = run(["--exit-zero", "fl", "missing.py"], d)
    check("--exit-zero still exits 2 on errors", rc == 2, f"rc={rc}")
    rc, out, err = run(["--statistics", "fl"], d)
    lines = out.splitlines()
    check("--statistics: a count per rule, no per-finding lines",
          rc == 1 and lines[:2] == ["2\tSPF101\t[*] closure-free-nested-def", "1\tSPF102\t[ ] function-built-in-loop"]
          and "fl/a.py" not in out, out)
    rc, out, err = run(["--statistics", "--format", "json", "fl"], d)
    import json
    check("--statistics as JSON", json.loads(out) == [
        {"code": "SPF101", "name": "closure-free-nested-def", "count": 2, "fixable_count": 2, "fixable": True},
        {"code": "SPF102", "name": "function-built-in-loop", "count": 1, "fixable_count": 0, "fixable": False}],
        out)
    # partial fixability, as Ruff shows it: [~] when some findings of a rule are fixable
    write(d, "partial/a.py", CLOSURE_FREE)
    write(d, "partial/b.py", "def f():\n    def k(x):\n        return -x\n\n    return k\n")
    rc, out, err = run(["--statistics", "partial"], d)
    check("--statistics: [~] for a rule with some fixable findings",
          out.splitlines()[:1] == ["2\tSPF101\t[~] closure-free-nested-def"], out)
    rc, out, err = run(["--statistics", "--format", "json", "partial"], d)
    check("--statistics as JSON: fixable_count", json.loads(out) == [
        {"code": "SPF101", "name": "closure-free-nested-def", "count": 2, "fixable_count": 1, "fixable": False}], out)
    rc, out, err = run(["--statistics", "--unsafe-fixes", "partial"], d)
    check("--statistics: unsafe fixes count as fixable with --unsafe-fixes",
          out.splitlines()[:1] == ["2\tSPF101\t[*] closure-free-nested-def"], out)
    rc, out, err = run(["--quiet", "fl"], d)
    check("--quiet prints findings without a summary", rc == 1 and out.count("SPF10") == 3 and "Found" not in out,
          out)
    rc, out, err = run(["--silent", "fl"], d)
    check("--silent prints nothing but keeps the exit status", rc == 1 and out == "", f"rc={rc} {out}")
    rc, out, err = run(["--fix", "--exit-non-zero-on-fix", "fl/a.py"], d)
    check("--exit-non-zero-on-fix exits 1 after a fix", rc == 1 and "_outer_key" in read(os.path.join(d, "fl/a.py"))
          .decode(), f"rc={rc} {out}")
    rc, out, err = run(["--fix", "--exit-non-zero-on-fix", "fl/a.py"], d)
    check("--exit-non-zero-on-fix exits 0 when nothing was fixed", rc == 0, f"rc={rc} {out}")
    rc, out, err = run(["--version"], d)
    check("--version", rc == 0 and re.fullmatch(r"spipfix \d+\.\d+\.\d+\n", out) is not None, out)
    rc, out, err = run(["--help"], d)
    src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cmd", "check", "main.c")).read()
    table = src[src.index("static const struct option longopts[]"):]
    table = table[:table.index("};")]
    longs = re.findall(r'\{"([a-z-]+)",', table)
    check("the option table was read", len(longs) > 20, longs)
    option_lines = [l for l in out.splitlines() if l.lstrip().startswith("-")]
    for name in longs:
        hits = [l for l in option_lines if re.search(r"(^|, )--%s(?![\w-])" % re.escape(name), l.strip())
                or f"alias --{name})" in l]
        check(f"--help lists --{name} on one line", len(hits) == 1, out)
    check("--help options have a description", all(re.match(r"\s+(-\w, )?--[\w-]+([ =][A-Z:]+)?\s{2,}\S", l)
                                                   for l in option_lines), option_lines)


def rules(d):
    """`spipfix rule CODE` explains a rule; its example really shows the rule and its fix."""
    import json
    rc, out, err = run(["rule", "SPF101"], d)
    check("rule SPF101", rc == 0 and out.startswith("# closure-free-nested-def (SPF101)") and "## Example" in out
          and "Use instead:" in out, out)
    rc, out, err = run(["rule", "function-built-in-loop"], d)
    check("rule by name", rc == 0 and "(SPF102)" in out, out)
    rc, out, err = run(["rule", "SPF999"], d)
    check("rule unknown exits 2", rc == 2 and "SPF999" in err, err)
    rc, out, err = run(["rule"], d)
    check("rule without a code exits 2", rc == 2, err)
    rc, out, err = run(["rule", "--all", "--format", "json"], d)
    docs = json.loads(out)
    rc, helptext, err = run(["--help"], d)
    registered = re.findall(r"^  (SPF\d+) ", helptext, re.M)
    available = [x["code"] for x in docs if x["available"]]
    check("rule --all covers every registered rule", registered and sorted(available) == sorted(registered),
          f"{available} {registered}")
    for doc in docs:
        if not doc["available"]:
            continue
        code = doc["code"]
        b = write(d, f"rules/{code}/before.py", doc["before"])
        a = write(d, f"rules/{code}/after.py", doc["after"])
        rc, out, err = run(["--check", "--isolated", "--select", code, b], d)
        check(f"rule {code}: the example shows the finding", rc == 1 and f" {code} " in out, out + err)
        rc, out, err = run(["--check", "--isolated", "--select", code, a], d)
        check(f"rule {code}: the fixed example has no finding", rc == 0 and out == "", out + err)
        fixed = write(d, f"rules/{code}/fixed.py", doc["before"])
        run(["--fix", "--isolated", "--unsafe-fixes", fixed], d)
        check(f"rule {code}: `spipfix --fix` turns the example into its `after`",
              read(fixed).decode() == doc["after"], read(fixed).decode())


def run_merged(args, cwd, stdin):
    """stdout and stderr in one stream, as an editor's filter (Vim's `:%!`) reads them."""
    p = subprocess.run([SPIPFIX, *args], cwd=cwd, input=stdin.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace")


SYNTAX_ERROR = "def f(:\n    def g(): pass\n"


def filter_mode(d):
    """-q/-s in every mode; with -s, stdin --fix prints only the source and nothing on stderr
    unless the buffer cannot be fixed (then the buffer unchanged and one line, after it)."""
    expected = read(os.path.join(d, "ref/app.py")).decode()
    name = ["--stdin-filename", "src/app.py", "-"]
    rc, out, err = run(["--fix", "-s", *name], d, stdin=CLOSURE_FREE)
    check("-s stdin --fix: only the fixed source, nothing on stderr", rc == 0 and out == expected and err == "",
          f"rc={rc} {out!r} {err!r}")
    rc, out, err = run(["--fix", "-s", *name], d, stdin=CAPTURING_IN_LOOP)
    check("-s stdin --fix with a report-only finding: the buffer, nothing on stderr, exit 1",
          rc == 1 and out == CAPTURING_IN_LOOP and err == "", f"rc={rc} {out!r} {err!r}")
    rc, out, err = run(["--fix", "-s", *name], d, stdin=CLEAN)
    check("-s stdin --fix on a clean buffer: no `All checks passed!`", rc == 0 and out == CLEAN and err == "",
          f"rc={rc} {out!r} {err!r}")
    rc, out, err = run(["--fix", "-s", *name], d, stdin=SYNTAX_ERROR)
    check("-s stdin --fix on a syntax error: the buffer unchanged and one line on stderr",
          rc == 2 and out == SYNTAX_ERROR and err.count("\n") == 1 and err.startswith("error: src/app.py:1:"),
          f"rc={rc} {out!r} {err!r}")
    for label, buf, want in [("fixable", CLOSURE_FREE, expected), ("report-only", CAPTURING_IN_LOOP, CAPTURING_IN_LOOP),
                             ("clean", CLEAN, CLEAN)]:
        rc, out = run_merged(["--fix", "-s", *name], d, buf)
        check(f"-s stdin --fix with stderr merged ({label}): exactly the source", out == want, repr(out))
    rc, out = run_merged(["--fix", "-s", *name], d, SYNTAX_ERROR)
    check("-s stdin --fix with stderr merged (syntax error): the buffer, then one line",
          out.startswith(SYNTAX_ERROR) and out[len(SYNTAX_ERROR):].count("\n") == 1
          and out[len(SYNTAX_ERROR):].startswith("error: "), repr(out))
    rc, out = run_merged(["--fix", *name], d, CLEAN)
    check("without -s, stdin --fix still says `All checks passed!` on stderr", out == CLEAN + "All checks passed!\n",
          repr(out))
    rc, out, err = run(["--fix", "-q", *name], d, stdin=CAPTURING_IN_LOOP)
    check("-q stdin --fix: the remaining finding on stderr, no summary",
          out == CAPTURING_IN_LOOP and err.count("\n") == 1 and " SPF102 " in err and "Found" not in err, err)
    rc, out, err = run(["--diff", "-s", *name], d, stdin=CLOSURE_FREE)
    check("-s --diff: the diff only, nothing on stderr", rc == 1 and out.startswith("--- src/app.py") and err == "",
          f"{out!r} {err!r}")
    rc, out, err = run(["--diff", "-q", *name], d, stdin=CLOSURE_FREE)
    check("-q --diff: no `Would fix` line", rc == 1 and out.startswith("--- src/app.py") and err == "", repr(err))
    rc, out, err = run(["--check", "-s", *name], d, stdin=CLOSURE_FREE)
    check("-s --check: nothing at all, exit 1", rc == 1 and out == "" and err == "", f"rc={rc} {out!r} {err!r}")
    write(d, "flt/a.py", CLOSURE_FREE)
    rc, out, err = run(["--fix", "-s", "flt/a.py"], d)
    check("-s --fix on files: nothing printed, the file fixed", rc == 0 and out == "" and err == ""
          and read(os.path.join(d, "flt/a.py")).decode() == expected, f"rc={rc} {out!r} {err!r}")


ANSI = "\x1b["


def colors(d):
    """--color auto|always|never, NO_COLOR and FORCE_COLOR, colours on a terminal by default."""
    import pty
    write(d, "col/a.py", CLOSURE_FREE)
    env0 = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}

    def runc(args, **env):
        p = subprocess.run([SPIPFIX, *args], cwd=d, capture_output=True, timeout=60, env={**env0, **env},
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout.decode(), p.stderr.decode()
    rc, plain, err = runc(["col/a.py"])
    check("color: none in a pipe by default", ANSI not in plain, repr(plain))
    rc, out, err = runc(["--color", "always", "col/a.py"])
    check("color: --color always paints path, code and [*]",
          "\x1b[1mcol/a.py\x1b[0m" in out and "\x1b[1;31mSPF101\x1b[0m" in out and "[\x1b[36m*\x1b[0m]" in out
          and re.sub(r"\x1b\[[0-9;]*m", "", out) == plain, repr(out))
    rc, out, err = runc(["--color", "never", "col/a.py"], FORCE_COLOR="1")
    check("color: --color never beats FORCE_COLOR", ANSI not in out, repr(out))
    rc, out, err = runc(["col/a.py"], FORCE_COLOR="1")
    check("color: FORCE_COLOR colours a pipe", ANSI in out, repr(out))
    rc, out, err = runc(["col/a.py"], FORCE_COLOR="1", NO_COLOR="1")
    check("color: NO_COLOR wins over FORCE_COLOR", ANSI not in out, repr(out))
    rc, out, err = runc(["--color", "always", "col/a.py"], NO_COLOR="1")
    check("color: --color always beats NO_COLOR", ANSI in out, repr(out))
    rc, out, err = runc(["--color", "always", "--diff", "col/a.py"])
    check("color: --diff paints added lines green", "\x1b[32m+def _outer_key(x):\x1b[0m\n" in out, repr(out))
    rc, out, err = runc(["--color", "always", "--format", "json", "col/a.py"])
    check("color: never inside JSON", ANSI not in out and out.startswith("["), repr(out[:80]))
    rc, out, err = runc(["--color", "sometimes", "col/a.py"])
    check("color: an unknown value is a usage error", rc == 2 and "sometimes" in err, err)
    # a terminal: stdout is a pty
    master, slave = pty.openpty()
    p = subprocess.Popen([SPIPFIX, "col/a.py"], cwd=d, stdout=slave, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, env={**env0, "TERM": "xterm"})
    os.close(slave)
    got = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    p.wait(timeout=60)
    os.close(master)
    check("color: on a terminal by default", b"\x1b[1;31mSPF101" in got, repr(got))


def did_you_mean(d):
    """Unknown options and rule codes get the nearest known one; rule codes in any case."""
    write(d, "dym/a.py", CLOSURE_FREE)
    rc, out, err = run(["--fixx", "dym/a.py"], d)
    check("did you mean: --fixx", rc == 2 and "unrecognized option `--fixx` (did you mean `--fix`?)" in err, err)
    rc, out, err = run(["--selct=SPF101", "dym/a.py"], d)
    check("did you mean: --selct=...", rc == 2 and "(did you mean `--select`?)" in err, err)
    rc, out, err = run(["--select"], d)
    check("an option without its value says so", rc == 2 and "`--select` needs a value" in err, err)
    for opt in ("--select", "--extend-select", "--ignore"):
        rc, out, err = run([opt, "SPF11", "dym/a.py"], d)
        check(f"did you mean: {opt} SPF11", rc == 2 and "unknown rule `SPF11` (did you mean `SPF101`?)" in err, err)
    rc, out, err = run(["--per-file-ignores", "*.py:SPF11", "dym/a.py"], d)
    check("did you mean: --per-file-ignores", rc == 2 and "(did you mean `SPF101`?)" in err, err)
    rc, out, err = run(["rule", "SPF11"], d)
    check("did you mean: rule SPF11", rc == 2 and "(did you mean `SPF101`?)" in err, err)
    rc, out, err = run(["rule", "--al"], d)
    check("did you mean: rule --al", rc == 2 and "(did you mean `--all`?)" in err, err)
    rc, out, err = run(["server", "--verbse"], d)
    check("server: an unknown argument is a usage error", rc == 2 and "--verbse" in err, err)
    rc, out, err = run(["srever"], d)
    check("did you mean: a mistyped command", rc == 2 and "(did you mean `server`?)" in err, err)
    rc, out, err = run(["--debug=SPF11", "dym/a.py"], d)
    check("did you mean: --debug=SPF11", rc == 2 and "(did you mean `SPF101`?)" in err, err)
    cfg = write(d, "dym/cfg/pyproject.toml", "[tool.spipfix]\nselect = [\"SPF11\"]\n")
    write(d, "dym/cfg/a.py", CLOSURE_FREE)
    rc, out, err = run(["a.py"], os.path.dirname(cfg))
    check("did you mean: in pyproject.toml", rc == 2 and "unknown rule `SPF11` (did you mean `SPF101`?)" in err, err)
    # rule codes in any case, at every entry point
    rc, out, err = run(["--check", "--select", "spf101", "dym/a.py"], d)
    check("lower case: --select spf101", rc == 1 and " SPF101 " in out, out + err)
    rc, out, err = run(["--check", "--ignore", "spf101", "dym/a.py"], d)
    check("lower case: --ignore spf101", rc == 0 and out == "", out + err)
    rc, out, err = run(["--check", "--select", "SPF102", "--extend-select", "spf1", "dym/a.py"], d)
    check("lower case: --extend-select spf1", rc == 1 and " SPF101 " in out, out + err)
    rc, out, err = run(["--check", "--per-file-ignores", "dym/*:spf101", "dym/a.py"], d)
    check("lower case: --per-file-ignores", rc == 0 and out == "", out + err)
    rc, out, err = run(["rule", "spf101"], d)
    check("lower case: rule spf101", rc == 0 and "(SPF101)" in out, err)
    rc, out, err = run(["--check", "--debug=spf101", "dym/a.py"], d)
    check("lower case: --debug=spf101", rc == 1 and "debug SPF101" in err, err)
    write(d, "dym/low/pyproject.toml", "[tool.spipfix]\nignore = [\"spf101\"]\n")
    write(d, "dym/low/a.py", CLOSURE_FREE)
    rc, out, err = run(["--check", "a.py"], os.path.join(d, "dym/low"))
    check("lower case: ignore = [\"spf101\"] in pyproject.toml", rc == 0 and out == "", out + err)


def show_fixes_fix_only(d):
    """--show-fixes lists what was fixed per file and rule; --fix-only fixes and reports nothing else."""
    for name in ("a.py", "b.py"):
        write(d, f"sf/{name}", CLOSURE_FREE + "\n\n" + CLOSURE_FREE.replace("outer", "other"))
    write(d, "sf/loop.py", CAPTURING_IN_LOOP)
    rc, out, err = run(["--fix", "--show-fixes", "sf"], d)
    check("--show-fixes: Ruff's table, then the summary", out.endswith(
        "\nFixed 4 findings:\n- sf/a.py:\n    2 \u00d7 SPF101 (closure-free-nested-def)\n"
        "- sf/b.py:\n    2 \u00d7 SPF101 (closure-free-nested-def)\n\n"
        "Found 5 findings (4 fixed, 1 remaining).\n") and "sf/loop.py:4:13: SPF102" in out, out)
    rc, out, err = run(["--fix", "--show-fixes", "sf"], d)
    check("--show-fixes with nothing fixed lists nothing", "Fixed" not in out, out)
    for name in ("a.py", "b.py"):
        write(d, f"sf/{name}", CLOSURE_FREE)
    rc, out, err = run(["--diff", "--show-fixes", "sf"], d)
    check("--show-fixes with --diff: what would be fixed, on stderr",
          rc == 1 and "Would fix 2 findings:\n- sf/a.py:\n" in err and "Would fix" not in out, err)
    rc, out, err = run(["--fix-only", "sf"], d)
    check("--fix-only: nothing reported, `Fixed N findings.`, exit 0 though a finding remains",
          rc == 0 and out == "Fixed 2 findings.\n" and err == "", f"rc={rc} {out!r} {err!r}")
    check("--fix-only fixed the files", "_outer_key" in read(os.path.join(d, "sf/a.py")).decode())
    rc, out, err = run(["--fix-only", "sf"], d)
    check("--fix-only with nothing to fix prints nothing", rc == 0 and out == "" and err == "", f"rc={rc} {out!r}")
    write(d, "sf/a.py", CLOSURE_FREE)
    rc, out, err = run(["--fix-only", "--exit-non-zero-on-fix", "sf"], d)
    check("--fix-only --exit-non-zero-on-fix exits 1 after a fix", rc == 1, f"rc={rc}")
    write(d, "sf/dec.py", DECORATED)
    rc, out, err = run(["--fix-only", "sf/dec.py"], d)
    check("--fix-only: unsafe fixes left are counted as in Ruff",
          out == "No findings fixed (1 fix available with `--unsafe-fixes`).\n", out)
    rc, out, err = run(["--fix-only", "--stdin-filename", "s.py", "-"], d, stdin=CLOSURE_FREE)
    check("--fix-only on stdin: the fixed source, the count on stderr",
          out == read(os.path.join(d, "ref/app.py")).decode() and err == "Fixed 1 finding.\n", f"{out!r} {err!r}")
    rc, out, err = run(["--fix-only", "--check", "sf"], d)
    check("--fix-only with --check is a usage error", rc == 2, f"rc={rc}")


NOQA_INPUT = '''import re


def a(xs):
    def k1(x):  # keep this comment
        return -x
    def k2(x):  # noqa: SPF102
        return -x
    def k3(x):  # noqa:SPF102 -- why it stays
        return -x
    def k4(x):  # noqa
        return -x
    def k5(x):\t
        return -x
    f = lambda x: -x; g = lambda y: y
    s = re.compile("""a
b""").match(xs[0])
    return sorted(xs, key=k1), k2, k3, k4, k5, f, g, s
'''
NOQA_OUTPUT = NOQA_INPUT.replace("# keep this comment", "# keep this comment  # noqa: SPF101").replace(
    "# noqa: SPF102\n", "# noqa: SPF101, SPF102\n").replace("# noqa:SPF102 --", "# noqa:SPF101, SPF102 --").replace(
    "def k5(x):\t", "def k5(x):  # noqa: SPF101").replace("g = lambda y: y", "g = lambda y: y  # noqa: SPF101")


def add_noqa(d):
    """--add-noqa: `# noqa: CODE` on each reported line, merged into an existing directive, keeping
    comments; idempotent; a line that ends inside a string is left and reported."""
    p = write(d, "nq/a.py", NOQA_INPUT)
    rc, out, err = run(["--add-noqa", "nq/a.py"], d)
    got = read(p).decode()
    check("--add-noqa writes each directive, merging and keeping comments", got == NOQA_OUTPUT, got)
    check("--add-noqa says how many, as Ruff", rc == 0 and "Added 5 noqa directives.\n" in err, f"rc={rc} {err}")
    check("--add-noqa reports the line it cannot comment",
          "warning: nq/a.py:16:9: cannot add `# noqa: SPF201`: the line ends inside a string literal" in err, err)
    rc, out, err = run(["--check", "nq/a.py"], d)
    check("after --add-noqa only the uncommentable finding remains", out.count("\n") == 1 and " SPF201 " in out, out)
    rc, out, err = run(["--add-noqa", "nq/a.py"], d)
    check("--add-noqa is idempotent", read(p).decode() == NOQA_OUTPUT and "Added" not in err, err)
    crlf = write(d, "nq/crlf.py", CLOSURE_FREE.replace("\n", "\r\n").encode())
    run(["--add-noqa", "nq/crlf.py"], d)
    check("--add-noqa keeps CRLF", read(crlf) == CLOSURE_FREE.replace("    def key(x):", "    def key(x):  # noqa: SPF101")
          .replace("\n", "\r\n").encode(), read(crlf))
    rc, out, err = run(["--add-noqa", "--fix", "nq/a.py"], d)
    check("--add-noqa with --fix is a usage error", rc == 2 and "--add-noqa" in err, err)
    rc, out, err = run(["--add-noqa", "-"], d, stdin=CLOSURE_FREE)
    check("--add-noqa on stdin is a usage error", rc == 2 and "standard input" in err, err)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", required=True)
    SPIPFIX = os.path.abspath(ap.parse_args().spipfix)
    sys.exit(main())

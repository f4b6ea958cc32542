"""spipfix in a real editor: Debian's Neovim (0.7), headless.
- the filter: `:%!spipfix --fix -s --stdin-filename % -` on a buffer, written out (Neovim merges
  stderr into the filtered text, so anything but the source would land in the file);
- the language server: Neovim's built-in client starts `spipfix server`, gets the diagnostics,
  runs the quick fix (and, on another file, source.fixAll) through its code-action menu; the
  buffer written out must be what `spipfix --fix` makes of the file.
Skipped (exit 77) when nvim is not installed. Run with Debian's /usr/bin/python3."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

from checks import check, summary

CLOSURE_FREE = "def outer(xs):\n    def key(x):\n        return -x\n    return sorted(xs, key=key)\n"
CAPTURING_IN_LOOP = ("def f(xs, limit):\n    out = []\n    for x in xs:\n        def check(v):\n"
                     "            return v < limit\n        out.append(check(x))\n    return out\n")
CLEAN = "def f(x):\n    return x + 1\n"
SYNTAX_ERROR = "def f(:\n    def g(): pass\n"
TWO = CLOSURE_FREE + "\n\n" + CLOSURE_FREE.replace("outer", "other")
HERE = os.path.dirname(os.path.abspath(__file__))


def nvim(d, path, *commands, env=None):
    args = ["nvim", "--headless", "-u", "NONE", "-i", "NONE", "-n", path]
    for c in commands:
        args += ["-c", c]
    p = subprocess.run(args + ["-c", "qa!"], cwd=d, capture_output=True, timeout=180, stdin=subprocess.DEVNULL,
                       env={**os.environ, "XDG_CACHE_HOME": os.path.join(d, "cache"),
                            "XDG_STATE_HOME": os.path.join(d, "state"), **(env or {})})
    return p


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def cli_fix(d, text):
    p = subprocess.run([SPIPFIX, "--fix", "-s", "--isolated", "--stdin-filename", "x.py", "-"], cwd=d,
                       input=text.encode(), capture_output=True, timeout=60)
    return p.stdout.decode()


def filter_recipe(d):
    """The README's recipe: `:%!spipfix --fix -s --stdin-filename % -`."""
    recipe = f"%!{SPIPFIX} --fix -s --stdin-filename % -"
    for name, text, want in [("fixable", CLOSURE_FREE, cli_fix(d, CLOSURE_FREE)),
                             ("clean", CLEAN, CLEAN),
                             ("report-only", CAPTURING_IN_LOOP, CAPTURING_IN_LOOP)]:
        path = os.path.join(d, f"filter_{name.replace('-', '_')}.py")
        write(path, text)
        nvim(d, path, recipe, "write")
        got = read(path)
        check(f"nvim :%! filter ({name}): the buffer written is exactly the source", got == want, repr(got))
    path = os.path.join(d, "filter_syntax.py")
    write(path, SYNTAX_ERROR)
    nvim(d, path, recipe, "write")
    got = read(path)
    check("nvim :%! filter (syntax error): the buffer unchanged, then the one line that says why",
          got.startswith(SYNTAX_ERROR) and got[len(SYNTAX_ERROR):].count("\n") == 1
          and got[len(SYNTAX_ERROR):].startswith("error: "), repr(got))
    write(path, SYNTAX_ERROR)
    nvim(d, path, recipe + " 2>/dev/null", "write")
    got = read(path)
    check("nvim :%! filter with 2>/dev/null (syntax error): the buffer unchanged", got == SYNTAX_ERROR, repr(got))
    check("Neovim merges stderr into a filter's output (what the recipe must survive)",
          (nvim(d, path, "%!sh -c 'cat; echo stderr-line >&2'", "write") and "stderr-line" in read(path)))


def lsp_session(d, name, text, action, only=""):
    """Neovim's LSP client on `text`; returns (written text, session log)."""
    root = os.path.join(d, name)
    os.makedirs(root)
    path = os.path.join(root, "app.py")
    write(path, text)
    log = os.path.join(d, f"{name}.log")
    p = nvim(d, path, f"luafile {os.path.join(HERE, 'nvim_lsp.lua')}",
             env={"SPIPFIX": SPIPFIX, "NVIM_TEST_FILE": path, "NVIM_TEST_ROOT": root, "NVIM_TEST_LOG": log,
                  "NVIM_TEST_ACTION": action, "NVIM_TEST_ONLY": only})
    session = read(log) if os.path.exists(log) else ""
    if p.returncode != 0:
        session += f"nvim exited with {p.returncode}: {p.stderr.decode(errors='replace')}\n"
    return read(path), session


def lsp(d):
    got, session = lsp_session(d, "quickfix", CLOSURE_FREE, "^spipfix %(SPF101%)")
    print("--- session (quick fix) ---\n" + session + "---")
    check("nvim LSP: diagnostics arrive", "diagnostics: 1\n" in session
          and "2:9 spipfix SPF101: Nested function `key`" in session, session)
    check("nvim LSP: the menu offers the quick fix, the noqa and fix-all",
          "action: [quickfix] spipfix (SPF101): Lift `key`" in session
          and "action: [quickfix] Disable SPF101 for this line" in session
          and "action: [source.fixAll.spipfix] spipfix: Apply all safe fixes" in session, session)
    check("nvim LSP: the quick fix (resolved by codeAction/resolve) gives what --fix writes",
          got == cli_fix(d, CLOSURE_FREE) and got != CLOSURE_FREE, got)
    check("nvim LSP: the diagnostic goes once the buffer is fixed", "diagnostics after the edit: 0" in session, session)
    lsp_log = os.path.join(d, "cache", "nvim", "lsp.log")
    traffic = read(lsp_log) if os.path.exists(lsp_log) else ""
    methods = re.findall(r'method = "([^"]+)"', traffic)
    print("--- the JSON-RPC methods in Neovim's lsp.log, in order ---\n" + " ".join(methods) + "\n---")
    check("nvim LSP: the client resolved the action", "codeAction/resolve" in methods, methods)
    check("nvim LSP: the server wrote nothing on stderr (Neovim logs that as an error)",
          '"stderr"' not in traffic, [l for l in traffic.splitlines() if '"stderr"' in l][:5])
    check("nvim LSP: the server's start is in window/logMessage", "window/logMessage" in methods, methods)
    got, session = lsp_session(d, "fixall", TWO, "^spipfix: Apply all safe fixes", only="source.fixAll")
    print("--- session (source.fixAll) ---\n" + session + "---")
    check("nvim LSP: source.fixAll gives what --fix writes", got == cli_fix(d, TWO) and got != TWO, got)
    got, session = lsp_session(d, "noqa", CLOSURE_FREE, "^Disable SPF101 for this line")
    check("nvim LSP: Disable SPF101 for this line", got == CLOSURE_FREE.replace(
        "    def key(x):\n", "    def key(x):  # noqa: SPF101\n"), got)


def main():
    if not shutil.which("nvim"):
        print("nvim is not installed (Debian: apt-get install neovim); skipped")
        return 77
    ver = subprocess.run(["nvim", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(ver)
    with tempfile.TemporaryDirectory() as d:
        filter_recipe(d)
        lsp(d)
    return summary()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", required=True)
    SPIPFIX = os.path.abspath(ap.parse_args().spipfix)
    sys.exit(main())

"""`spipfix server` driven over stdio with raw JSON-RPC: the framing (stdout carries nothing but
messages), position encodings (UTF-16 columns on a line with a character outside the BMP, UTF-8
when offered), incremental edits, malformed and unknown messages, a change during an analysis,
debouncing, diagnostics, code actions and their edits, configuration, the lifecycle. Run with
Debian's /usr/bin/python3."""
import argparse
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time

from checks import check, summary

CLOSURE_FREE = "def outer(xs):\n    def key(x):\n        return -x\n    return sorted(xs, key=key)\n"
NON_BMP = ('import re\n\n\ndef outer(xs):\n'
           '    s = "\U0001F600\u00e9"; f = lambda x: -x\n'
           '    return sorted(xs, key=f), s\n')
DECORATED = ("import functools\n\n\ndef table(n):\n    @functools.lru_cache(maxsize=None)\n"
             "    def cost(k):\n        return k * k\n    return [cost(i) for i in range(n)]\n")
SYNTAX_ERROR = "def f(:\n    return 1\n"


class Server:
    """A spipfix server process and a strict reader of its stdout."""

    def __init__(self, root, capabilities=None, init_options=None, folders=None, settings=None, args=("-v",)):
        self.log_path = os.path.join(root, f"server-{time.monotonic_ns()}.log")
        SERVERS.append(self)
        with open(self.log_path, "wb") as log:
            self.p = subprocess.Popen([SPIPFIX, "server", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=log, cwd=root,
                                      env={**os.environ, "XDG_CACHE_HOME": os.path.join(root, "cache")})
        self.junk = []          # bytes on stdout that are not a message
        self.messages = queue.Queue()
        self.ended = False
        threading.Thread(target=self._reader, daemon=True).start()
        self.inbox = []         # messages read but not taken yet
        self.next_id = 0
        self.settings = settings  # what we answer to workspace/configuration
        self.applied = []         # workspace/applyEdit requests received
        self.root = root
        params = {"processId": os.getpid(), "capabilities": capabilities or {}, "rootUri": uri_of(root),
                  "workspaceFolders": [{"uri": uri_of(f), "name": os.path.basename(f)} for f in (folders or [root])]}
        if init_options is not None:
            params["initializationOptions"] = init_options
        self.init = self.request("initialize", params)
        self.notify("initialized", {})

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def raw(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, obj):
        body = json.dumps(obj).encode()
        self.raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request_async(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id

    def request(self, method, params, timeout=30):
        rid = self.request_async(method, params)
        return self.wait(lambda m: m.get("id") == rid and "method" not in m, timeout)

    def _reader(self):
        """The thread that reads stdout (a client must read while it writes, or both block)."""
        buf = b""
        while True:
            chunk = os.read(self.p.stdout.fileno(), 1 << 20)
            if not chunk:
                self.messages.put(None)
                return
            buf += chunk
            while buf:
                if not b"Content-Length: ".startswith(buf[:16]) and not buf.startswith(b"Content-Length: "):
                    self.junk.append(buf)
                    buf = b""
                    break
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                try:
                    n = int(buf[len(b"Content-Length: "):end])
                except ValueError:
                    self.junk.append(buf)
                    buf = b""
                    break
                if len(buf) < end + 4 + n:
                    break
                body, buf = buf[end + 4:end + 4 + n], buf[end + 4 + n:]
                try:
                    self.messages.put(json.loads(body))
                except ValueError:
                    self.junk.append(body)

    def _read_one(self, timeout):
        """One message from stdout, or None when none came in time (or stdout ended)."""
        if self.ended:
            return None
        try:
            m = self.messages.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None
        if m is None:
            self.ended = True
        return m

    def _answer(self, m):
        """Answer the server's own requests as a client does."""
        if m.get("method") == "workspace/configuration":
            items = m["params"]["items"]
            res = self.settings(items) if callable(self.settings) else [self.settings] * len(items)
            self.send({"jsonrpc": "2.0", "id": m["id"], "result": res})
        elif m.get("method") == "workspace/applyEdit":
            self.applied.append(m["params"])
            self.send({"jsonrpc": "2.0", "id": m["id"], "result": {"applied": True}})

    def wait(self, pred, timeout=30):
        for i, m in enumerate(self.inbox):
            if pred(m):
                return self.inbox.pop(i)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self._read_one(deadline - time.monotonic())
            if m is None:
                return None
            if "method" in m and "id" in m:
                self._answer(m)
            if pred(m):
                return m
            self.inbox.append(m)
        return None

    def drain(self, seconds):
        """Everything that comes within `seconds`."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            m = self._read_one(end - time.monotonic())
            if m is None:
                break
            if "method" in m and "id" in m:
                self._answer(m)
            self.inbox.append(m)
        out, self.inbox = self.inbox, []
        return out

    def diagnostics(self, uri, version=None, timeout=30):
        m = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
                      and (version is None or m["params"].get("version") == version), timeout)
        return m["params"]["diagnostics"] if m else None

    def open(self, path, text, version=1):
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri_of(path), "languageId": "python",
                                                              "version": version, "text": text}})

    def close(self):
        """shutdown and exit; checks that the server ends with status 0."""
        if self.p.poll() is None:
            try:
                self.request("shutdown", None, timeout=30)
                self.notify("exit", None)
            except (BrokenPipeError, OSError):
                pass
        try:
            rc = self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = None
        check("the server shut down with status 0", rc == 0, f"rc={rc} {self.log()[-1500:]}")
        return rc


SERVERS = []


def sanitizer_reports():
    """What AddressSanitizer, LeakSanitizer or UBSan said in any server's log."""
    found = []
    for s in SERVERS:
        log = s.log()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in log:
                found.append(log[log.index(marker):][:1500])
    return found


def uri_of(path):
    from urllib.parse import quote
    return "file://" + quote(os.path.abspath(path))


def utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


def offset_of(text, pos, enc):
    """The index in `text` (a str) of an LSP position in encoding enc (lines end at LF)."""
    lines = text.split("\n")
    if pos["line"] >= len(lines):
        return len(text)
    base = sum(len(l) + 1 for l in lines[:pos["line"]])
    content = lines[pos["line"]].rstrip("\r")
    width = utf16_len if enc == "utf-16" else (lambda c: len(c.encode()))
    units = 0
    for i, ch in enumerate(content):
        if units >= pos["character"]:
            return base + i
        units += width(ch)
    return base + len(content)


def apply_edits(text, edits, enc="utf-16"):
    """Apply LSP TextEdits (all against the original text) as a client does."""
    spans = [(offset_of(text, e["range"]["start"], enc), offset_of(text, e["range"]["end"], enc), i, e["newText"])
             for i, e in enumerate(edits)]
    for a, b, _, t in sorted(spans, key=lambda x: (x[0], x[1], x[2]), reverse=True):
        text = text[:a] + t + text[b:]
    return text


def edits_of(workspace_edit, uri):
    if "documentChanges" in workspace_edit:
        return [e for dc in workspace_edit["documentChanges"] if dc["textDocument"]["uri"] == uri for e in dc["edits"]]
    return workspace_edit["changes"][uri]


def fixed_by_cli(d, text, args=()):
    p = subprocess.run([SPIPFIX, "--fix", "-s", "--isolated", *args, "--stdin-filename", "x.py", "-"], cwd=d,
                       input=text.encode(), capture_output=True, timeout=60)
    return p.stdout.decode()


def main():
    with tempfile.TemporaryDirectory() as d:
        encodings(d)
        incremental(d)
        malformed(d)
        concurrency(d)
        actions(d)
        configuration(d)
        lifecycle(d)
        check("no server log holds a sanitizer report", not sanitizer_reports(), sanitizer_reports())
    return summary()


def encodings(d):
    """UTF-16 unless the client offers UTF-8; columns on a line with a character outside the BMP."""
    path = os.path.join(d, "enc.py")
    line = NON_BMP.splitlines()[4]
    col = line.index("lambda")
    s = Server(d)
    check("initialize: UTF-16 when the client offers nothing",
          s.init and s.init["result"]["capabilities"]["positionEncoding"] == "utf-16", s.init)
    caps = s.init["result"]["capabilities"] if s.init else {}
    check("initialize: incremental sync, code actions with resolve, fix-all command",
          caps.get("textDocumentSync", {}).get("change") == 2 and caps["codeActionProvider"]["resolveProvider"]
          and "source.fixAll.spipfix" in caps["codeActionProvider"]["codeActionKinds"]
          and caps["executeCommandProvider"]["commands"] == ["spipfix.applyAutofix"], caps)
    s.open(path, NON_BMP)
    diags = s.diagnostics(uri_of(path)) or []
    lam = [g for g in diags if g["code"] == "SPF101"]
    check("the line holds a character outside the BMP", utf16_len(line[:col]) != col and len(line[:col].encode()) != col)
    check("UTF-16: the lambda's column counts the emoji as two code units",
          lam and lam[0]["range"]["start"] == {"line": 4, "character": utf16_len(line[:col])}
          and lam[0]["range"]["end"] == {"line": 4, "character": utf16_len(line[:col]) + len("lambda")}, diags)
    check("diagnostic: severity, code, source, message, codeDescription, the fix in data",
          lam and lam[0]["severity"] == 2 and lam[0]["source"] == "spipfix" and "rebuilt on every call" in lam[0]["message"]
          and lam[0]["data"]["fix"]["applicability"] == "safe" and lam[0]["data"]["fix"]["edits"]
          and lam[0]["codeDescription"]["href"].startswith("file://"), lam)
    if lam:
        from urllib.parse import unquote
        doc = lam[0]["codeDescription"]["href"][len("file://"):]
        rule = subprocess.run([SPIPFIX, "rule", "SPF101"], capture_output=True, text=True).stdout
        check("codeDescription links to the text of `spipfix rule SPF101`",
              os.path.exists(unquote(doc)) and open(unquote(doc)).read() == rule, doc)
        fixed = apply_edits(NON_BMP, lam[0]["data"]["fix"]["edits"], "utf-16")
        check("UTF-16: the fix in data, applied as a client does, is what --fix writes",
              fixed == fixed_by_cli(d, NON_BMP), fixed)
    s.close()
    s = Server(d, capabilities={"general": {"positionEncodings": ["utf-8", "utf-16"]}})
    check("initialize: UTF-8 when the client offers it",
          s.init and s.init["result"]["capabilities"]["positionEncoding"] == "utf-8", s.init)
    s.open(path, NON_BMP)
    diags = s.diagnostics(uri_of(path)) or []
    lam = [g for g in diags if g["code"] == "SPF101"]
    check("UTF-8: the lambda's column counts bytes",
          lam and lam[0]["range"]["start"] == {"line": 4, "character": len(line[:col].encode())}, diags)
    if lam:
        check("UTF-8: the fix in data, applied, is what --fix writes",
              apply_edits(NON_BMP, lam[0]["data"]["fix"]["edits"], "utf-8") == fixed_by_cli(d, NON_BMP))
    s.close()
    check("stdout carried nothing but messages", not s.junk, s.junk)


def full_text_via_fix_all(s, uri, text_now):
    """The server's idea of the text, seen through its fix-all edit applied to ours."""
    r = s.request("textDocument/codeAction", {"textDocument": {"uri": uri},
                                              "range": {"start": {"line": 0, "character": 0},
                                                        "end": {"line": 0, "character": 0}},
                                              "context": {"diagnostics": [], "only": ["source.fixAll"]}})
    acts = r.get("result") or [] if r else []
    return apply_edits(text_now, edits_of(acts[0]["edit"], uri)) if acts else None


def incremental(d):
    """didChange with ranges in UTF-16 after a character outside the BMP, several changes in one
    notification, a full replacement; the diagnostics follow the text."""
    s = Server(d)
    path = os.path.join(d, "inc.py")
    uri = uri_of(path)
    s.open(path, NON_BMP)
    s.diagnostics(uri, 1)
    line = NON_BMP.splitlines()[4]
    # replace `-x` of the lambda by `x * 2`: the range is given in UTF-16 units after the emoji
    a = line.index("-x")
    rng = {"start": {"line": 4, "character": utf16_len(line[:a])}, "end": {"line": 4, "character": utf16_len(line[:a + 2])}}
    text = NON_BMP.replace("lambda x: -x", "lambda x: x * 2")
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                        "contentChanges": [{"range": rng, "text": "x * 2"}]})
    diags = s.diagnostics(uri, 2) or []
    check("incremental: the lambda is still reported after an edit after the emoji",
          [g["code"] for g in diags] == ["SPF101"] and diags[0]["range"]["start"]["line"] == 4, diags)
    check("incremental: the server's text is ours (UTF-16 ranges applied right)",
          full_text_via_fix_all(s, uri, text) == fixed_by_cli(d, text))
    # three changes in one notification, each on the text the one before left: a nested def
    # inserted above the emoji line, then that line (two lines further down now) and the next edited
    new_def = "    def key(x):\n        return -x\n"
    emoji_line = text.splitlines()[4]
    a = emoji_line.index("x * 2")
    last = text.splitlines()[5]
    b = last.index(", s")
    changes = [{"range": {"start": {"line": 4, "character": 0}, "end": {"line": 4, "character": 0}}, "text": new_def},
               {"range": {"start": {"line": 6, "character": utf16_len(emoji_line[:a])},
                          "end": {"line": 6, "character": utf16_len(emoji_line[:a + 5])}}, "text": "x * 3"},
               {"range": {"start": {"line": 7, "character": b}, "end": {"line": 7, "character": b}},
                "text": ", sorted(xs, key=key)"}]
    text2 = text.replace("    s = ", new_def + "    s = ").replace("x * 2", "x * 3").replace(
        "key=f), s", "key=f), sorted(xs, key=key), s")
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3}, "contentChanges": changes})
    diags = s.diagnostics(uri, 3) or []
    check("incremental: three changes in one notification, in order",
          [(g["code"], g["range"]["start"]["line"]) for g in diags if g["code"] == "SPF101"] == [("SPF101", 4), ("SPF101", 6)],
          diags)
    check("incremental: the text after the three changes",
          full_text_via_fix_all(s, uri, text2) == fixed_by_cli(d, text2) != text2)
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 4},
                                        "contentChanges": [{"text": "x = 1\n"}]})
    diags = s.diagnostics(uri, 4)
    check("incremental: a full replacement clears the findings", diags == [], diags)
    # a change that makes the file unanalysable: one diagnostic, the server stays up
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 5},
                                        "contentChanges": [{"text": SYNTAX_ERROR}]})
    diags = s.diagnostics(uri, 5) or []
    check("a file that cannot be analysed gives one diagnostic, an error on its line",
          len(diags) == 1 and diags[0]["severity"] == 1 and diags[0]["range"]["start"]["line"] == 0
          and "cannot analyse" in diags[0]["message"] and "code" not in diags[0], diags)
    r = s.request("textDocument/codeAction", {"textDocument": {"uri": uri},
                                              "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                                              "context": {"diagnostics": diags}})
    check("... no code action for it, and the server answers", r and r.get("result") == [], r)
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 6},
                                        "contentChanges": [{"text": "x = 1\x00\n"}]})
    diags = s.diagnostics(uri, 6) or []
    check("a buffer with a NUL byte: one diagnostic", len(diags) == 1 and "NUL" in diags[0]["message"], diags)
    s.close()
    check("incremental: stdout carried nothing but messages", not s.junk, s.junk)


def malformed(d):
    """Malformed and unknown messages get JSON-RPC errors; the server stays up."""
    s = Server(d)

    def error_reply(raw, want_code, label, want_id=None):
        s.raw(raw)
        m = s.wait(lambda m: "error" in m and m.get("id") == want_id, 10)
        check(f"malformed: {label} -> error {want_code}", m and m["error"]["code"] == want_code, m)
    error_reply(b"Hello there\r\n\r\n", -32700, "a header line that is no field")
    error_reply(b"X-Other: 1\r\n\r\n", -32700, "a header without Content-Length")
    error_reply(b"Content-Length: 99999999999999999999999\r\n\r\n", -32700, "a Content-Length that overflows")
    error_reply(b"Content-Length: 9\r\n\r\n{not json", -32700, "a body that is not JSON")
    error_reply(b"Content-Length: 6\r\n\r\n[1, 2]", -32600, "a body that is not an object")
    old = json.dumps({"jsonrpc": "1.0", "id": 7, "method": "x"}).encode()
    error_reply(b"Content-Length: %d\r\n\r\n" % len(old) + old, -32600, "jsonrpc 1.0", 7)
    rid = s.request_async("textDocument/frobnicate", {})
    m = s.wait(lambda m: m.get("id") == rid, 10)
    check("unknown request -> -32601 with its id", m and m["error"]["code"] == -32601 and "frobnicate" in m["error"]["message"], m)
    s.notify("textDocument/frobnicated", {})
    s.notify("$/setTrace", {"value": "off"})
    rid = s.request_async("textDocument/codeAction", {"textDocument": {"uri": "file:///x.py"}})
    m = s.wait(lambda m: m.get("id") == rid, 10)
    check("a request with invalid params -> -32602", m and m["error"]["code"] == -32602, m)
    rid = s.request_async("initialize", {"capabilities": {}})
    m = s.wait(lambda m: m.get("id") == rid, 10)
    check("a second initialize -> -32600", m and m["error"]["code"] == -32600, m)
    m = s.request("codeAction/resolve", {"title": "x", "data": {"uri": "file:///nothing.py"}})
    check("resolving an action of no open document -> an error", m and "error" in m, m)
    # a message split across writes, and two messages in one write
    body = json.dumps({"jsonrpc": "2.0", "id": 901, "method": "textDocument/frobnicate"}).encode()
    frame = b"Content-Length: %d\r\n\r\n" % len(body) + body
    s.raw(frame[:10])
    time.sleep(0.05)
    s.raw(frame[10:] + frame.replace(b"901", b"902"))
    a = s.wait(lambda m: m.get("id") == 901, 10)
    b = s.wait(lambda m: m.get("id") == 902, 10)
    check("a message split across writes, then two in one write: both answered", a and b, (a, b))
    path = os.path.join(d, "mal.py")
    s.open(path, CLOSURE_FREE)
    diags = s.diagnostics(uri_of(path))
    check("after all that the server still analyses", diags and diags[0]["code"] == "SPF101", diags)
    check("malformed: the server is still running", s.p.poll() is None)
    s.close()
    check("malformed: stdout carried nothing but messages", not s.junk, s.junk)
    # garbage: random bytes and damaged messages, then the end of the input: the server answers
    # what it can and ends with status 1 (no exit), not with a signal
    import random
    rnd = random.Random(14)
    g = Server(d)
    good = json.dumps({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri_of(os.path.join(d, "g.py")), "languageId": "python", "version": 1, "text": CLOSURE_FREE}}}).encode()
    for i in range(300):
        if i % 3 == 0:
            chunk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200)))
        else:
            chunk = bytearray(b"Content-Length: %d\r\n\r\n" % len(good) + good)
            for _ in range(rnd.randrange(0, 3)):
                chunk[rnd.randrange(len(chunk))] = rnd.randrange(256)
            chunk = bytes(chunk)
        try:
            g.raw(chunk)
        except BrokenPipeError:
            break
    g.p.stdin.close()
    rc = g.p.wait(timeout=120)
    g.drain(0.2)
    check("garbage: the server ends with status 1 at the end of its input, not with a signal", rc == 1, rc)
    check("garbage: stdout carried nothing but messages", not g.junk, g.junk[:3])
    # requests before initialize
    p = subprocess.Popen([SPIPFIX, "server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "textDocument/codeAction", "params": {}}).encode()
    out, _ = p.communicate(b"Content-Length: %d\r\n\r\n" % len(body) + body, timeout=30)
    check("a request before initialize -> -32002, then the end of input ends the server with 1",
          b'"code":-32002' in out and p.returncode == 1, (out, p.returncode))


def big_module(n_funcs):
    """A module of n_funcs plain functions and one finding at its end."""
    parts = ["import re\n\n\n"]
    for i in range(n_funcs):
        parts.append(f"def f{i}(xs, n):\n    out = []\n    for x in xs:\n        out.append(x * n + {i})\n"
                     f"    return out\n\n\n")
    return "".join(parts) + CLOSURE_FREE


def concurrency(d):
    """A didChange that arrives while the previous version is being analysed: that analysis is
    not published; a burst of changes is analysed once (debounce)."""
    s = Server(d)
    path = os.path.join(d, "big.py")
    uri = uri_of(path)
    text = big_module(3000)  # 21,000 lines: its analysis takes long enough to change it meanwhile
    s.open(path, text)
    time.sleep(0.05)
    text2 = text.replace("def f0(xs):", "def g0(xs):")
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": text2}]})
    diags = s.diagnostics(uri, 2, timeout=120)
    msgs = s.drain(1.0)
    early = [m for m in s.inbox + msgs if m.get("method") == "textDocument/publishDiagnostics"
             and m["params"].get("version") == 1]
    check("didChange during analysis: version 2 is published", diags is not None and len(diags) == 1, diags)
    log = s.log()
    check("didChange during analysis: version 1's analysis is dropped, not published",
          not early and "version 1 superseded" in log, log[-2000:])
    # a burst of small changes 5 ms apart, within the debounce: analysed once it pauses (a
    # stall of the test itself may split the burst once, hence "at most two")
    small = os.path.join(d, "burst.py")
    suri = uri_of(small)
    s.open(small, CLOSURE_FREE)
    s.diagnostics(suri, 1)
    for v in range(2, 8):
        s.notify("textDocument/didChange", {"textDocument": {"uri": suri, "version": v},
                                            "contentChanges": [{"range": {"start": {"line": 0, "character": 0},
                                                                          "end": {"line": 0, "character": 0}},
                                                                "text": "#\n"}]})
        time.sleep(0.005)
    last = s.diagnostics(suri, 7)
    got = [m["params"]["version"] for m in s.drain(0.5)
           if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == suri]
    check("debounce: six changes 5 ms apart are analysed once or twice, the last version last",
          last is not None and last[0]["range"]["start"]["line"] == 7 and len(got) <= 1 and 7 not in got, (last, got))
    s.close()


def actions(d):
    """Quick fixes (safe, unsafe labelled), "Disable CODE for this line", source.fixAll, resolve,
    executeCommand; every edit applied is what the command line writes."""
    path = os.path.join(d, "act.py")
    uri = uri_of(path)
    two = CLOSURE_FREE + "\n\n" + CLOSURE_FREE.replace("outer", "other")
    for resolve in (False, True):
        caps = {"textDocument": {"codeAction": {"resolveSupport": {"properties": ["edit"]}}}} if resolve else {}
        label = "with resolve" if resolve else "without resolve"
        s = Server(d, capabilities=caps)
        s.open(path, two)
        diags = s.diagnostics(uri) or []
        first = diags[0] if diags else None
        r = s.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": first["range"] if first else {},
                                                  "context": {"diagnostics": [first] if first else []}})
        acts = r.get("result", []) if r else []
        titles = [a["title"] for a in acts]
        check(f"codeAction ({label}): the quick fix, the noqa, fix-all",
              titles == ["spipfix (SPF101): Lift `key` to module level as `_outer_key`", "Disable SPF101 for this line",
                         "spipfix: Apply all safe fixes"] and [a["kind"] for a in acts] ==
              ["quickfix", "quickfix", "source.fixAll.spipfix"], titles)
        if len(acts) != 3:
            s.close()
            continue
        check(f"codeAction ({label}): edits {'left to resolve' if resolve else 'included'}",
              all(("edit" in a) != resolve for a in acts), acts)
        if resolve:
            acts = [s.request("codeAction/resolve", a)["result"] for a in acts]
        quick = apply_edits(two, edits_of(acts[0]["edit"], uri))
        cli_one = fixed_by_cli(d, CLOSURE_FREE) + "\n\n" + CLOSURE_FREE.replace("outer", "other")
        check(f"quick fix ({label}): one finding fixed as --fix fixes it", quick == cli_one, quick)
        noqa = apply_edits(two, edits_of(acts[1]["edit"], uri))
        check(f"Disable SPF101 for this line ({label})", noqa == two.replace("    def key(x):\n",
                                                                              "    def key(x):  # noqa: SPF101\n", 1), noqa)
        check(f"source.fixAll ({label}) = --fix", apply_edits(two, edits_of(acts[2]["edit"], uri)) == fixed_by_cli(d, two))
        r = s.request("textDocument/codeAction", {"textDocument": {"uri": uri},
                                                  "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                                                  "context": {"diagnostics": [], "only": ["source.fixAll"]}})
        check(f"only source.fixAll ({label}): just fix-all", r and [a["kind"] for a in r["result"]] == ["source.fixAll.spipfix"], r)
        s.close()
    # an unsafe fix is offered, labelled, not preferred, and not in fix-all
    s = Server(d)
    dpath = os.path.join(d, "dec.py")
    s.open(dpath, DECORATED)
    diags = s.diagnostics(uri_of(dpath)) or []
    lift = [g for g in diags if g["code"] == "SPF101"]
    r = s.request("textDocument/codeAction", {"textDocument": {"uri": uri_of(dpath)}, "range": lift[0]["range"] if lift else {},
                                              "context": {"diagnostics": lift}}) if lift else None
    acts = r["result"] if r else []
    unsafe = [a for a in acts if a["title"].startswith("spipfix (SPF101)")]
    check("unsafe fix: offered, labelled with its reason, not preferred",
          unsafe and "(unsafe fix: " in unsafe[0]["title"] and "decorat" in unsafe[0]["title"]
          and unsafe[0]["isPreferred"] is False and "(unsafe fix: " in lift[0]["message"], acts)
    if unsafe:
        got = apply_edits(DECORATED, edits_of(unsafe[0]["edit"], uri_of(dpath)))
        check("unsafe fix applied = --fix --unsafe-fixes", got == fixed_by_cli(d, DECORATED, ["--unsafe-fixes"]), got)
    check("no safe fix: no fix-all action", not any(a["kind"].startswith("source") for a in acts), acts)
    # executeCommand: the server asks the client to apply the fix-all edit
    s.open(path, two)
    s.diagnostics(uri)
    r = s.request("workspace/executeCommand", {"command": "spipfix.applyAutofix", "arguments": [{"uri": uri, "version": 1}]})
    s.drain(0.5)
    check("executeCommand spipfix.applyAutofix -> null, then workspace/applyEdit",
          r and r.get("result", 1) is None and len(s.applied) == 1, (r, s.applied))
    if s.applied:
        check("the applied edit = --fix", apply_edits(two, edits_of(s.applied[0]["edit"], uri)) == fixed_by_cli(d, two))
    r = s.request("workspace/executeCommand", {"command": "spipfix.nothing", "arguments": []})
    check("executeCommand of an unknown command -> an error", r and "error" in r, r)
    s.close()
    check("actions: stdout carried nothing but messages", not s.junk, s.junk)


def configuration(d):
    """pyproject.toml of each workspace folder, initializationOptions, workspace/configuration."""
    a = os.path.join(d, "proj_a")
    b = os.path.join(d, "proj_b")
    os.makedirs(a)
    os.makedirs(b)
    with open(os.path.join(a, "pyproject.toml"), "w") as f:
        f.write('[tool.spipfix]\nignore = ["SPF101"]\n')
    s = Server(d, folders=[a, b])
    pa, pb = os.path.join(a, "m.py"), os.path.join(b, "m.py")
    s.open(pa, CLOSURE_FREE)
    s.open(pb, CLOSURE_FREE)
    da, db = s.diagnostics(uri_of(pa)), s.diagnostics(uri_of(pb))
    check("config: each folder's pyproject.toml", da == [] and db and db[0]["code"] == "SPF101", (da, db))
    # the file changes: read again when it is saved
    with open(os.path.join(a, "pyproject.toml"), "w") as f:
        f.write('[tool.spipfix]\nselect = ["SPF1"]\n')
    s.notify("textDocument/didSave", {"textDocument": {"uri": uri_of(os.path.join(a, "pyproject.toml"))}})
    da = s.diagnostics(uri_of(pa), timeout=10)
    check("config: pyproject.toml saved -> read again", da and da[0]["code"] == "SPF101", da)
    with open(os.path.join(a, "pyproject.toml"), "w") as f:
        f.write('[tool.spipfix]\nselct = ["SPF1"]\n')
    s.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": uri_of(os.path.join(a, "pyproject.toml")), "type": 2}]})
    shown = s.wait(lambda m: m.get("method") == "window/showMessage", 10)
    da = s.diagnostics(uri_of(pa), timeout=10)
    check("config: an invalid pyproject.toml is shown with its error, the defaults apply",
          shown and "unknown key `selct`" in shown["params"]["message"] and da and da[0]["code"] == "SPF101", (shown, da))
    s.close()
    # initializationOptions: select, unsafe-fixes; unknown rules are reported with a suggestion
    s = Server(d, folders=[b], init_options={"settings": {"select": ["SPF201", "SPF11"], "unsafe-fixes": True}})
    shown = s.wait(lambda m: m.get("method") == "window/showMessage", 10)
    check("initializationOptions: an unknown rule is shown with the nearest code",
          shown and "unknown rule `SPF11`" in shown["params"]["message"] and "SPF101" in shown["params"]["message"], shown)
    s.open(pb, CLOSURE_FREE)
    check("initializationOptions: select", s.diagnostics(uri_of(pb)) == [])
    s.close()
    s = Server(d, folders=[b], init_options={"unsafeFixes": True})
    dp = os.path.join(b, "dec.py")
    s.open(dp, DECORATED)
    s.diagnostics(uri_of(dp))
    got = full_text_via_fix_all(s, uri_of(dp), DECORATED)
    check("initializationOptions: unsafeFixes -> fix-all applies the unsafe fix",
          got == fixed_by_cli(d, DECORATED, ["--unsafe-fixes"]) and got != DECORATED, got)
    s.close()
    # target-version: the first settings choose the server's Python (one per process), silently
    built = [v for v in ("py311", "py312", "py313")
             if os.path.exists(os.path.join(os.path.dirname(SPIPFIX), "spipfix-%s.so" % v))]
    generic = "def first[T](xs: list[T]) -> T:\n    def key(x):\n        return x\n    return sorted(xs, key=key)[0]\n"
    for tv in built:
        s = Server(d, folders=[b], init_options={"target-version": tv})
        shown = s.wait(lambda m: m.get("method") == "window/showMessage", 2)
        check(f"initializationOptions: target-version {tv} applied silently", shown is None, shown)
        # a PEP 695 file: findings on 3.12+, an error (no findings) on 3.11
        tp = os.path.join(b, "generic.py")
        s.open(tp, generic)
        diags = s.diagnostics(uri_of(tp))
        codes = [x.get("code") for x in (diags or [])]
        check(f"target-version {tv}: the PEP 695 file is analysed by that version",
              ("SPF101" in codes) == (tv != "py311"), diags)
        s.close()
    # workspace/configuration: asked per folder, answered by the client, then applied
    s = Server(d, folders=[b], capabilities={"workspace": {"configuration": True}},
               settings=lambda items: [{"ignore": ["spf101"]} if "scopeUri" in it else None for it in items])
    s.open(pb, CLOSURE_FREE)
    diags = None
    for _ in range(3):
        diags = s.diagnostics(uri_of(pb), timeout=10)
        if diags == []:
            break
    check("workspace/configuration: the folder's settings apply (rule codes in any case)", diags == [], diags)
    s.close()


def lifecycle(d):
    """shutdown, then requests are refused and exit ends with 0; exit without shutdown ends with 1."""
    s = Server(d)
    r = s.request("shutdown", None)
    check("shutdown -> null", r and "result" in r and r["result"] is None, r)
    r = s.request("textDocument/codeAction", {"textDocument": {"uri": "file:///x.py"}, "range": {}})
    check("a request after shutdown -> -32600", r and r["error"]["code"] == -32600, r)
    s.notify("exit", None)
    check("exit after shutdown: status 0", s.p.wait(timeout=10) == 0)
    s = Server(d)
    s.notify("exit", None)
    check("exit without shutdown: status 1", s.p.wait(timeout=10) == 1)
    s = Server(d)
    s.p.stdin.close()
    check("the end of input ends the server (status 1)", s.p.wait(timeout=10) == 1)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", required=True)
    SPIPFIX = os.path.abspath(ap.parse_args().spipfix)
    sys.exit(main())

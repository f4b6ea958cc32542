#!/usr/bin/python3
"""How long `spipfix server` takes to answer a buffer with its diagnostics, as an editor sees it.

Opens a file (default: the standard library's argparse.py, 2,633 lines) in `spipfix server -v`,
then makes --rounds incremental edits (a character typed at the end of the file, then removed,
50 ms apart: each one after a pause, so that the server analyses it at once rather than wait for
the end of a burst) and times each from the didChange written to the publishDiagnostics read.
Prints, in ms: the first analysis after didOpen (the embedded interpreter starts then), the
median / min / max end-to-end latency of the edits, and the server's own analysis time for the
same edits (from its -v log, wall and CPU time), so that the analysis and the transport can be
told apart, and a busy machine from a slow analysis.

    /usr/bin/python3 bench/server_latency.py [--spipfix build/spipfix] [--rounds 30] [FILE]
"""
import argparse
import json
import os
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time


def frame(obj):
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class Client:
    def __init__(self, spipfix, log):
        self.p = subprocess.Popen([spipfix, "server", "-v"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        self.buf = b""

    def send(self, obj):
        self.p.stdin.write(frame(obj))
        self.p.stdin.flush()

    def read(self):
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                n = int(self.buf[16:end])
                if len(self.buf) >= end + 4 + n:
                    body, self.buf = self.buf[end + 4:end + 4 + n], self.buf[end + 4 + n:]
                    return json.loads(body)
            select.select([self.p.stdout], [], [])
            chunk = os.read(self.p.stdout.fileno(), 1 << 20)
            if not chunk:
                raise SystemExit("the server closed its output")
            self.buf += chunk

    def until(self, pred):
        while True:
            m = self.read()
            if pred(m):
                return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spipfix", default=os.path.join(os.path.dirname(__file__), "..", "build", "spipfix"))
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("file", nargs="?", default="/usr/lib/python3.11/argparse.py")
    a = ap.parse_args()
    text = open(a.file, encoding="utf-8").read()
    lines = text.count("\n")
    uri = "file://" + os.path.abspath(a.file)
    with tempfile.TemporaryFile() as log:
        c = Client(os.path.abspath(a.spipfix), log)
        c.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
        c.until(lambda m: m.get("id") == 1)
        c.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        t0 = time.perf_counter()
        c.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": text}}})
        first = c.until(lambda m: m.get("method") == "textDocument/publishDiagnostics")
        open_ms = (time.perf_counter() - t0) * 1e3
        ndiag = len(first["params"]["diagnostics"])
        end_line = lines
        times = []
        for r in range(a.rounds):
            v = r + 2
            # type a character at the end of the file, or take it away again
            if r % 2 == 0:
                change = {"range": {"start": {"line": end_line, "character": 0},
                                    "end": {"line": end_line, "character": 0}}, "text": "#"}
            else:
                change = {"range": {"start": {"line": end_line, "character": 0},
                                    "end": {"line": end_line, "character": 1}}, "text": ""}
            t = time.perf_counter()
            c.send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": v}, "contentChanges": [change]}})
            c.until(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["version"] == v)
            times.append((time.perf_counter() - t) * 1e3)
            time.sleep(0.05)
        c.send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        c.until(lambda m: m.get("id") == 2)
        c.send({"jsonrpc": "2.0", "method": "exit"})
        c.p.wait(timeout=30)
        log.seek(0)
        found = re.findall(rb"version \d+ in ([0-9.]+) ms \(([0-9.]+) ms CPU\)", log.read())
        server = [float(w) for w, _ in found]
        cpu = [float(c) for _, c in found]
    edits = server[1:]
    print(f"file: {a.file} ({lines} lines, {ndiag} diagnostics)")
    print(f"didOpen -> diagnostics (first analysis, interpreter start included): {open_ms:.1f} ms "
          f"(the server's analysis: {server[0]:.1f} ms)")
    print(f"didChange -> diagnostics, {len(times)} edits: median {statistics.median(times):.1f} ms, "
          f"min {min(times):.1f}, max {max(times):.1f}")
    print(f"the server's analysis of those edits: median {statistics.median(edits):.1f} ms, "
          f"min {min(edits):.1f}, max {max(edits):.1f}; CPU median {statistics.median(cpu[1:]):.1f} ms, "
          f"min {min(cpu[1:]):.1f} (wall above CPU: the machine was busy)")
    print(f"load average when done: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    over = [t for t in times if t > 100]
    print(f"edits answered in more than 100 ms: {len(over)} of {len(times)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

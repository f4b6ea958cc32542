"""Worker processes and the content cache: output identical to the sequential run, cache hits
served without analysis, never stale, keyed by settings; the progress line on a terminal only.
Run with Debian's /usr/bin/python3."""
import argparse
import ctypes
import os
import pty
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

from checks import check, summary

CLOSURE_FREE = "def outer(xs):\n    def key(x):\n        return -x\n    return sorted(xs, key=key)\n"
DECORATED = ("import functools\n\n\ndef table(n):\n    @functools.lru_cache(maxsize=None)\n"
             "    def cost(k):\n        return k * k\n    return [cost(i) for i in range(n)]\n")
LOOP = ("def f(xs, limit):\n    out = []\n    for x in xs:\n        def check(v):\n"
        "            return v < limit\n        out.append(check(x))\n    return out\n")
BAD = {"syntax.py": b"def f(:\n", "nul.py": b"x = 1\x00\n", "latin.py": b"s = '\xe9'\n"}


def run(args, cwd, env=None):
    p = subprocess.run([SPIPFIX, *args], cwd=cwd, capture_output=True, timeout=300, stdin=subprocess.DEVNULL,
                       env=env)
    return p.returncode, p.stdout, p.stderr


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def make_tree(root, n=40):
    for i in range(n):
        body = [CLOSURE_FREE, DECORATED, LOOP, "x = 1\n", "\u00e9 = 'caf\u00e9'\n" + CLOSURE_FREE][i % 5]
        write(os.path.join(root, f"pkg{i % 4}", f"m{i:02d}.py"), body.replace("outer", f"outer{i}"))
    for name, data in BAD.items():
        write(os.path.join(root, "pkg1", name), data)


def children_of(pid):
    kids = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open(f"/proc/{e}/stat") as f:
                st = f.read()
        except OSError:
            continue
        if int(st[st.rindex(")") + 2:].split()[1]) == pid:
            kids.append(int(e))
    return sorted(kids)


def worker_dies(d):
    """A worker killed while it analyses: its files are reported, every other file is printed as
    sequentially. Two slow files, handed out first (the largest), keep both workers busy."""
    tree = os.path.join(d, "killtree")
    slow = "".join(f"def outer{i}(xs):\n    def key(x):\n        return -x + {i}\n    return sorted(xs, key=key)\n\n"
                   for i in range(1500))
    for name in ("big0.py", "big1.py"):
        write(os.path.join(tree, name), slow)
    for i in range(10):
        write(os.path.join(tree, f"small{i}.py"), CLOSURE_FREE.replace("outer", f"outer{i}"))
    args = ["--check", "--quiet", "--no-cache"]
    seq = run([*args, "-j", "1", "killtree"], d)
    p = subprocess.Popen([SPIPFIX, *args, "-j", "2", "killtree"], cwd=d, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    kids = []
    for _ in range(3000):
        kids = children_of(p.pid)
        if len(kids) == 2 or p.poll() is not None:
            break
        time.sleep(0.01)
    if len(kids) == 2:
        time.sleep(0.2)
        os.kill(kids[0], signal.SIGKILL)
    out, err = p.communicate(timeout=300)
    died = re.findall(rb"error: (\S+): the worker process analysing it died \(signal 9\); skipped\n", err)
    check("a killed worker's files are reported", len(kids) == 2 and p.returncode == 2 and 1 <= len(died) <= 2
          and err.count(b"\n") == len(died), (kids, p.returncode, err[-500:]))
    kept = b"".join(line for line in seq[1].splitlines(keepends=True)
                    if not any(line.startswith(f + b":") for f in died))
    check("every other file is printed as sequentially", seq[0] == 1 and out == kept and b"small9.py" in out,
          (seq[0], len(out), len(kept)))


def main():
    with tempfile.TemporaryDirectory() as d:
        tree = os.path.join(d, "tree")
        make_tree(tree)
        for args in (["--diff"], [], ["--format", "json"], ["--statistics"], ["--unsafe-fixes", "--diff"]):
            seq = run([*args, "--no-cache", "-j", "1", "tree"], d)
            par = run([*args, "--no-cache", "-j", "4", "tree"], d)
            check(f"-j4 prints exactly what -j1 prints ({' '.join(args) or 'report'})", seq == par,
                  f"\n{seq}\n{par}")
            check(f"the run has output and errors ({' '.join(args) or 'report'})",
                  seq[0] == 2 and seq[1] and b"nul.py" in seq[2], seq)
        rc, out, err = run(["--check", "--no-cache", "-j", "0", "tree"], d)
        check("--jobs 0 is a usage error", rc == 2 and b"--jobs" in err, err)
        worker_dies(d)

        # --fix on workers: every file fixed as sequentially
        fixtree = os.path.join(d, "fixtree")
        seqtree = os.path.join(d, "seqtree")
        make_tree(fixtree)
        make_tree(seqtree)
        a = run(["--fix", "--no-cache", "-j", "3", "fixtree"], d)
        b = run(["--fix", "--no-cache", "-j", "1", "seqtree"], d)
        check("--fix on workers reports as sequentially", a[0] == b[0] and a[1].replace(b"fixtree", b"seqtree")
              == b[1], f"{a}\n{b}")
        same = all(open(os.path.join(dp, f), "rb").read() == open(os.path.join(dp.replace("fixtree", "seqtree"), f),
                                                                   "rb").read()
                   for dp, _, fs in os.walk(fixtree) for f in fs)
        check("--fix on workers writes the same files", same)

        # the cache: .spipfix_cache in the project root (here the cwd, no pyproject.toml)
        cache = os.path.join(d, ".spipfix_cache")
        cold = run(["--diff", "tree"], d)
        check("cold run creates .spipfix_cache with a .gitignore", os.path.isfile(os.path.join(cache, ".gitignore"))
              and os.path.isfile(os.path.join(cache, "CACHEDIR.TAG")), os.listdir(d))
        warm = run(["--diff", "tree"], d)
        check("warm run prints what the cold run printed", cold == warm, f"\n{cold}\n{warm}")
        nocache = run(["--diff", "--no-cache", "tree"], d)
        check("cached output equals uncached output", nocache == warm)
        # prove that a hit is served from the cache, not analysed: alter the cached text
        bins = [os.path.join(dp, f) for dp, _, fs in os.walk(cache) for f in fs if f.endswith(".bin")]
        check("one cache file for these settings", len(bins) == 1, bins)
        data = open(bins[0], "rb").read()
        check("cache holds the diff text", b"+def _outer0_key(x):" in data)
        # damaged cache files are ignored: the output is what an uncached run prints
        altered = data.replace(b"+def _outer0_key(x):", b"+def _OUTER0_KEY(x):")
        for what, bad in [("an altered entry (its checksum differs)", altered),
                          ("a cache file cut short", data[:len(data) // 2]),
                          ("a cache file of garbage", os.urandom(len(data))),
                          ("an empty cache file", b"")]:
            with open(bins[0], "wb") as f:
                f.write(bad)
            check(f"{what} never changes the output", run(["--diff", "tree"], d) == nocache)
        os.unlink(bins[0])
        os.mkfifo(bins[0])
        p = subprocess.run([SPIPFIX, "--diff", "tree"], cwd=d, capture_output=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        check("a FIFO in the cache file's place neither blocks nor changes the output",
              (p.returncode, p.stdout) == nocache[:2], p.stderr[-300:])
        if stat.S_ISFIFO(os.lstat(bins[0]).st_mode):
            os.unlink(bins[0])
        # prove that a hit is served from the cache, not analysed: an altered entry with its
        # checksum made again (XXH3-64 of the rest, by libxxhash itself) is printed as stored
        xxh = ctypes.CDLL("libxxhash.so.0")
        xxh.XXH3_64bits.restype = ctypes.c_uint64
        xxh.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        body = altered[:-8]
        with open(bins[0], "wb") as f:
            f.write(body + xxh.XXH3_64bits(body, len(body)).to_bytes(8, "little"))
        rc, out, err = run(["--diff", "tree"], d)
        check("a warm run only reads and hashes (the altered entry is printed)", b"_OUTER0_KEY" in out, out[:300])
        # never stale: the file's bytes are in the key
        m00 = os.path.join(tree, "pkg0", "m00.py")
        write(m00, CLOSURE_FREE.replace("outer", "renamed"))
        rc, out, err = run(["--diff", "tree"], d)
        check("a changed file is analysed again", b"_renamed_key" in out and b"_OUTER0_KEY" not in out, out[:300])
        # settings are in the key: --unsafe-fixes is another entry, not the --diff one
        rc, out, err = run(["--diff", "--unsafe-fixes", "tree"], d)
        check("other settings do not reuse the entry", b"_table_cost" in out, out[:300])
        bins = [os.path.join(dp, f) for dp, _, fs in os.walk(cache) for f in fs if f.endswith(".bin")]
        check("a cache file per settings", len(bins) == 2, bins)
        # so are the input limits: a file refused under a small limit is analysed under the default
        rc, out, err = run(["--diff", "--max-file-size", "100", "tree"], d)
        check("a file over --max-file-size is an error", rc == 2 and b"larger than the limit" in err, err[:300])
        rc, out, err = run(["--diff", "tree"], d)
        check("the limit is part of the key", b"larger than the limit" not in err and b"_renamed_key" in out, err[:300])
        rc, out, err = run(["--diff", "--max-nesting", "1", "tree"], d)
        check("so is the nesting limit", rc == 2 and b"nested more than 1 deep" in err, err[:300])
        for stale in [p for p in (os.path.join(dp, f) for dp, _, fs in os.walk(cache) for f in fs) if p not in bins]:
            os.unlink(stale)
        # per-file-ignores change the rules a file runs: part of the key too
        write(os.path.join(d, "pyproject.toml"), "[tool.spipfix]\nper-file-ignores = { \"tree/pkg0/*\" = [\"SPF101\"] }\n")
        rc, out, err = run(["--diff", "tree"], d)
        check("per-file-ignores are honoured through the cache", b"_renamed_key" not in out, out[:300])
        os.unlink(os.path.join(d, "pyproject.toml"))
        # --fix: a file that gets written is not cached; its new content is analysed next time
        fx = os.path.join(d, "fx")
        write(os.path.join(fx, "a.py"), CLOSURE_FREE)
        run(["--check", "fx"], d)
        rc, out, err = run(["--fix", "fx"], d)
        check("--fix after a cached report fixes", b"_outer_key" in open(os.path.join(fx, "a.py"), "rb").read(),
              out + err)
        write(os.path.join(fx, "a.py"), CLOSURE_FREE)
        rc, out, err = run(["--fix", "fx"], d)
        check("--fix fixes again a file restored to a cached content",
              b"_outer_key" in open(os.path.join(fx, "a.py"), "rb").read(), out + err)
        shutil.rmtree(cache)
        run(["--diff", "--no-cache", "tree"], d)
        check("--no-cache writes no cache", not os.path.exists(cache))
        alt = os.path.join(d, "alt-cache")
        run(["--diff", "--cache-dir", alt, "tree"], d)
        check("--cache-dir puts it elsewhere", os.path.isdir(alt) and not os.path.exists(cache))
        env = dict(os.environ, SPIPFIX_CACHE_DIR=os.path.join(d, "env-cache"))
        run(["--diff", "tree"], d, env=env)
        check("SPIPFIX_CACHE_DIR puts it elsewhere", os.path.isdir(os.path.join(d, "env-cache")))
        expected = run(["--diff", "--no-cache", "tree"], d)
        blocker = os.path.join(d, "not-a-folder")
        write(blocker, "x")
        rc, out, err = run(["--diff", "--cache-dir", os.path.join(blocker, "cache"), "tree"], d)
        check("an unwritable cache warns and changes nothing else",
              b"cannot write the cache" in err and (rc, out) == expected[:2], err[-300:])

        # the progress line: on a terminal only (delay lowered from 1 s for the test)
        env = dict(os.environ, SPIPFIX_PROGRESS_DELAY="0")
        master, slave = pty.openpty()
        p = subprocess.Popen([SPIPFIX, "--check", "--no-cache", "tree"], cwd=d, stdout=subprocess.PIPE,
                             stderr=slave, stdin=subprocess.DEVNULL, env=env)
        os.close(slave)
        tty = b""
        while True:
            r, _, _ = select.select([master], [], [], 60)
            if not r:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            tty += chunk
        out = p.stdout.read()
        p.wait()
        os.close(master)
        check("progress line on a terminal", b"\r\x1b[K[" in tty and b"/43]" in tty, tty[:300])
        check("progress never reaches stdout", b"\x1b[K" not in out and b"/43]" not in out)
        rc, out, err = run(["--check", "--no-cache", "tree"], d, env=env)
        check("no progress line when stderr is not a terminal", b"\x1b[K" not in err and b"/43]" not in err, err)
    return summary()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", required=True)
    SPIPFIX = os.path.abspath(ap.parse_args().spipfix)
    sys.exit(main())

"""The HTML reports a person reads (`bench --html`, `bench --run --html`, `optimize --html`): the
site's own source as written (comments and quotes kept, a long body shortened), figures with
their unit, the noise flag, sorting, totals, executions and the estimated saving with a trace;
then each page rendered by Debian's headless Chromium at 1400 px, which must not need a
horizontal scroll bar. The screenshots are left in --out for a person to look at. Skipped (77)
when chromium is not installed. Run with Debian's /usr/bin/python3."""
import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile

from checks import check, summary

PYTHON = "/usr/bin/python3"
CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

MOD = '''\
import re


def check(text):
    return re.compile(r"[a-z]+").fullmatch(text) is not None   # raw string, as written


def order(xs):
    def key(x):  # largest first
        return -x
    return sorted(xs, key=key)


def long_one(xs):
    def body(x):
''' + "".join(f"        x = x + {i}  # step {i}\n" for i in range(40)) + '''        return x
    return [body(x) for x in xs]
'''

WORK = "import mod\nfor i in range(20000):\n    mod.check('abc'); mod.order([1, 2]); mod.long_one([1])\n"


def run(cmd, cwd, env=None):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=600, env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def cells(page):
    """The text of each <td> of each <tr> of the page's last table."""
    table = page.rsplit("<table>", 1)[-1]
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", td)) for td in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)])
    return rows


def ns(text):
    """'1.2 µs' -> 1200.0"""
    m = re.match(r"\s*(-?[\d.]+)\s*(ns|µs|ms|s)", text.replace("\xa0", " "))
    return float(m.group(1)) * {"ns": 1, "µs": 1e3, "ms": 1e6, "s": 1e9}[m.group(2)] if m else None


def render(page_path, png, d):
    """Chromium at 1400 px: the document's scroll width, and a screenshot."""
    probe = os.path.join(d, "probe.html")
    with open(page_path) as f:
        text = f.read()
    with open(probe, "w") as f:
        f.write(text.replace("</body>", "<script>document.body.setAttribute('data-scroll-width', "
                                        "document.documentElement.scrollWidth)</script></body>"))
    prof = tempfile.mkdtemp(dir=d)
    p = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={prof}", "--window-size=1400,900", "--dump-dom",
                        "file://" + probe], capture_output=True, timeout=120)
    m = re.search(rb'data-scroll-width="(\d+)"', p.stdout)
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={prof}", "--window-size=1400,900", f"--screenshot={png}",
                    "file://" + os.path.abspath(page_path)], capture_output=True, timeout=120)
    return int(m.group(1)) if m else None


def main():
    if not CHROMIUM:
        print("chromium is not installed (apt-get install chromium): skipped")
        return 77
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "mod.py"), "w") as f:
            f.write(MOD)
        with open(os.path.join(d, "work.py"), "w") as f:
            f.write(WORK)
        trace = os.path.join(d, "t.json")
        run([SPIPFIX, "trace", "--format", "json", "-o", trace, "-f", "mod.py", "work.py"], d)
        page = os.path.join(OUT, "bench.html")
        rc, so, se = run([SPIPFIX, "bench", "--html", page, "--trace-profile", trace, "mod.py"], d)
        check("bench --html: written", rc == 0 and os.path.exists(page), se)
        text = open(page).read()
        rows = cells(text)
        check("the source as written: the raw string and its quotes", 'r"[a-z]+"' in html.unescape(text), text[-3000:])
        check("the source as written: comments kept", "# largest first" in html.unescape(text))
        check("a 40-line body is shortened", "more lines)" in text and "# step 39" not in text)
        check("no legend of a unit the values do not have", "per call of the enclosing function" not in text)
        check("the unit of each figure", "saved / run" in text and all(ns(r[4]) is not None for r in rows[1:-1]),
              rows)
        saved = [ns(r[4]) for r in rows[1:-1]]
        est = [ns(r[7]) for r in rows[1:-1]]
        check("executions and estimated saving with a trace", "executions" in text and
              all(r[6].replace(",", "").isdigit() for r in rows[1:-1]), rows)
        check("sorted by estimated saving", est == sorted(est, reverse=True), est)
        check("a total row", rows[-1][0] == "total" and abs(ns(rows[-1][7]) - sum(est)) <= 0.05 * sum(est),
              rows[-1])
        noisy = [r for r in rows[1:-1] if "within the noise" in r[8]]
        big = [r for r in rows[1:-1] if ns(r[2]) and ns(r[3]) and ns(r[2]) > 5 * ns(r[3])]
        check("a saving five times the rest is not within the noise", big and not any(r in noisy for r in big),
              rows)
        width = render(page, os.path.join(OUT, "bench-1400.png"), d)
        check("bench --html fits 1400 px", width is not None and width <= 1400, width)

        # the loop's report
        page2 = os.path.join(OUT, "optimize.html")
        rc, so, se = run([SPIPFIX, "optimize", "--html", page2, "--min-executions", "100", "-r", "3",
                          f"{PYTHON} {os.path.join(d, 'work.py')}", os.path.join(d, "mod.py")], d)
        check("optimize --html: written", rc in (0, 1) and os.path.exists(page2), se)
        text2 = open(page2).read() if os.path.exists(page2) else ""
        check("optimize --html: executions, estimate, ratio", "20,000" in text2 and "est. saving" in text2 and
              "Ratio fixed / original" in text2, text2[:2000])
        check("optimize --html: the source as written", "# largest first" in html.unescape(text2))
        width = render(page2, os.path.join(OUT, "optimize-1400.png"), d)
        check("optimize --html fits 1400 px", width is not None and width <= 1400, width)
        print(f"screenshots: {OUT}/bench-1400.png {OUT}/optimize-1400.png")
    return summary()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", required=True)
    ap.add_argument("--out", required=True, help="folder for the pages and their screenshots")
    a = ap.parse_args()
    SPIPFIX = os.path.abspath(a.spipfix)
    OUT = os.path.abspath(a.out)
    sys.exit(main())

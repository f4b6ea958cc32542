"""A soupsieve workload: parse real HTML documents of this machine (Debian's HTML documentation,
or the files named in $SPIPFIX_HTML) with Beautiful Soup's html.parser and run a set of CSS
selectors on each with soupsieve's `select`, `match` and `filter`, as a scraper does. Prints a
digest of every result.

    spipfix optimize '/usr/bin/python3 "$SPIPFIX_CWD/bench/workloads/soupsieve_select.py"' \
        /usr/lib/python3/dist-packages/soupsieve
"""
import glob
import hashlib
import os
import sys

import bs4
import soupsieve as sv

tree = os.environ.get("SPIPFIX_TREE")
if tree and not sv.__file__.startswith(tree + os.sep):
    raise SystemExit(f"imported {sv.__file__}, not the tree under test {tree}")

pattern = os.environ.get("SPIPFIX_HTML", "/usr/share/doc/**/*.html")
files = sorted(glob.glob(pattern, recursive=True))[: int(sys.argv[1]) if len(sys.argv) > 1 else 12]
if not files:
    raise SystemExit(f"no HTML file matches {pattern} (set SPIPFIX_HTML)")
SELECTORS = ["a[href]", "div > p", "h1, h2, h3", "ul li:nth-child(2n+1)", "table tr td:first-child",
             "a[href^='http']", "p:not(.note)", "code, pre", "[id]", "li:has(> a)", "body :is(h2, h3) + p",
             "div p:last-of-type", "span.hljs-keyword", "a:is([href$='.html'], [href*='#'])"]
digest = hashlib.sha256()
for path in files:
    with open(path, encoding="utf-8", errors="replace") as f:
        soup = bs4.BeautifulSoup(f.read(), "html.parser")
    for sel in SELECTORS:
        found = sv.select(sel, soup)
        digest.update(f"{sel}:{len(found)}".encode())
        for tag in found[:20]:
            digest.update(str(sv.match(sel, tag)).encode())
        digest.update(str(len(sv.filter("a", soup.find_all(True)[:200]))).encode())
print(len(files), digest.hexdigest())

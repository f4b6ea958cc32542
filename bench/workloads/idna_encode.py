"""An idna workload: encode and decode many internationalised domain names (IDNA 2008, with
and without UTS 46 mapping), as a resolver or an HTTP client does for each host it meets. The
names are built from real labels in a dozen scripts. Prints a digest of every result, so that
both sides of `spipfix bench --run` / `spipfix optimize` can be compared.

    spipfix optimize '/usr/bin/python3 "$SPIPFIX_CWD/bench/workloads/idna_encode.py"' \
        /usr/lib/python3/dist-packages/idna
"""
import hashlib
import os
import sys

import idna

tree = os.environ.get("SPIPFIX_TREE")
if tree and not idna.__file__.startswith(tree + os.sep):
    raise SystemExit(f"imported {idna.__file__}, not the tree under test {tree}")

LABELS = ["bücher", "münchen", "zürich", "straße", "españa", "français", "ελληνικά", "пример", "москва",
          "испытание", "例え", "テスト", "中国", "香港", "한국", "日本語", "مثال", "בדיקה", "भारत", "ไทย",
          "παράδειγμα", "köln", "århus", "łódź", "kraków", "café", "naïve", "smörgåsbord", "ąčęėįšųūž"]
TLDS = ["de", "com", "org", "рф", "jp", "net", "中国", "example", "test"]
names = []
for i, a in enumerate(LABELS):
    for j, t in enumerate(TLDS):
        names.append(f"{a}.{LABELS[(i + j) % len(LABELS)]}.{t}")
        names.append(f"www.{a}-{j}.{t}")
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 12
digest = hashlib.sha256()
for _ in range(rounds):
    for n in names:
        a = idna.encode(n, uts46=True)
        digest.update(a)
        digest.update(idna.decode(a).encode())
        digest.update(idna.encode(n.lower()))
print(len(names), digest.hexdigest())

"""A chardet workload: `chardet.detect` over real files of this machine (Python sources of the
standard library, Debian's changelogs and copyright files) and over real text re-encoded in the
legacy encodings chardet's probers exist for (Latin-1, Windows-1251, KOI8-R, Shift_JIS, EUC-KR,
GB2312, Big5, ISO-8859-7). Prints a digest of every answer.

    spipfix optimize '/usr/bin/python3 "$SPIPFIX_CWD/bench/workloads/chardet_detect.py"' \
        /usr/lib/python3/dist-packages/chardet
"""
import glob
import gzip
import hashlib
import os
import sys

import chardet

tree = os.environ.get("SPIPFIX_TREE")
if tree and not chardet.__file__.startswith(tree + os.sep):
    raise SystemExit(f"imported {chardet.__file__}, not the tree under test {tree}")

limit = int(sys.argv[1]) if len(sys.argv) > 1 else 60
blobs = []
for path in sorted(glob.glob("/usr/lib/python3.11/*.py"))[:limit]:
    with open(path, "rb") as f:
        blobs.append(f.read(6000))
for path in sorted(glob.glob("/usr/share/doc/*/changelog.Debian.gz"))[:limit // 2]:
    with gzip.open(path) as f:
        blobs.append(f.read(6000))
TEXTS = {
    "latin-1": "Le cur déçu mais l'âme plutôt naïve, Louÿs rêva de crapaüter en canoë au delà des îles. " * 20,
    "windows-1251": "Съешь же ещё этих мягких французских булок, да выпей чаю. Широкая электрификация. " * 20,
    "koi8-r": "В чащах юга жил бы цитрус? Да, но фальшивый экземпляр! Эх, чужак, общий съём цен. " * 20,
    "shift_jis": "いろはにほへと ちりぬるを わかよたれそ つねならむ うゐのおくやま けふこえて あさきゆめみし " * 20,
    "euc-kr": "키스의 고유조건은 입술끼리 만나야 하고 특별한 기술은 필요치 않다. 다람쥐 헌 쳇바퀴에 타고파. " * 20,
    "gb2312": "我能吞下玻璃而不伤身体。天地玄黄，宇宙洪荒。日月盈昃，辰宿列张。寒来暑往，秋收冬藏。" * 20,
    "big5": "我能吞下玻璃而不傷身體。天地玄黃，宇宙洪荒。日月盈昃，辰宿列張。寒來暑往，秋收冬藏。" * 20,
    "iso-8859-7": "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Γαζέες και μυρτιές δεν θα βρω πια στο χρυσαφί ξέφωτο. " * 20,
}
for enc, text in TEXTS.items():
    blobs.append(text.encode(enc, errors="replace"))
digest = hashlib.sha256()
for b in blobs:
    r = chardet.detect(b)
    digest.update(repr((r["encoding"], round(r["confidence"], 3))).encode())
print(len(blobs), digest.hexdigest())

import functools
import re


def words(text):
    pat = re.compile(r"\w+")
    def norm(w):
        return w.lower()
    return sorted(map(norm, pat.findall(text)), key=lambda w: (len(w), w))


def _table():
    return tuple(i * i for i in range(100))


def use():
    for i in range(10):
        def sq(v):
            return v * v
        yield sq(i), _table()

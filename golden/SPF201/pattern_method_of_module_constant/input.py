import re

_SPACES_RE = re.compile(r"\s+")


def collapsed_example():
    return _SPACES_RE.sub(" ", "a   b    c")


def collapse(text):
    return _SPACES_RE.sub(" ", text)

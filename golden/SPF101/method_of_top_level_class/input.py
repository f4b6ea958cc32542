"""A tiny CSV-ish tokenizer."""


class Tokenizer:
    """Split lines into cleaned, lower-case tokens."""

    def __init__(self, sep=","):
        self.sep = sep

    def split(self, line):
        def clean(tok):
            return tok.strip().lower()

        return [clean(t) for t in line.split(self.sep) if t.strip()]

"""Tokenizer helpers: every rule has something to fix here."""
import re


def tokenize(text):
    def split_words(s):
        return re.compile(r"\w+").findall(s)

    return [w.lower() for w in split_words(text)]


def _vowel_table():
    return tuple(sum(1 for ch in word if ch in frozenset("aeiou")) for word in ("alpha", "beta", "gamma"))


def vowels():
    return _vowel_table()

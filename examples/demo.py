"""A small module with the per-call waste spipfix finds."""
import re


def rank(words):
    # sort by length, then alphabetically
    def by_length(word):
        return (len(word), word)

    return sorted(words, key=by_length)


def shout_all(lines):
    return list(map(lambda line: line.upper() + "!", lines))


def make_counter():
    count = 0

    def bump():  # captures `count`: not closure-free, left alone
        nonlocal count
        count += 1
        return count

    return bump


def tokens(text):
    return re.findall(r"\w+", text)

import re


def broken(text):
    return re.compile("(unclosed").search(text)

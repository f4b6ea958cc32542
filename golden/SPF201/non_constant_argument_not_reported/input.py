import re


def find(pattern, text):
    return re.compile(pattern).search(text), re.compile("x", re.IGNORECASE)

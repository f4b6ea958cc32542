import re


def search(re, text):
    return re.compile("a+").search(text)

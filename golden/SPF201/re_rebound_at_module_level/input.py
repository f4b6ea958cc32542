import re

if __debug__:
    re = __import__("re")


def find_a(text):
    return re.compile("a+").search(text)

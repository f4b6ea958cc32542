import re


def words(text):
    return re.compile(r"\w+").findall(text)


def _helper():
    return 1


del _helper

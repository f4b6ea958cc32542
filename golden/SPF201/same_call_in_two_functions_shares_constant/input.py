import re


def is_int(s):
    return re.compile(r"-?\d+").fullmatch(s) is not None


def ints(text):
    return re.compile(r"-?\d+").findall(text)

import re

_DIGITS = re.compile(r"\d+")


def digits(text):
    return re.compile(r"\d+").findall(text)

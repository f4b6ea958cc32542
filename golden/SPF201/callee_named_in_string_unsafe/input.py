import re

HOOKS = ("re.compile",)


def words(text):
    return re.compile(r"\w+").findall(text)

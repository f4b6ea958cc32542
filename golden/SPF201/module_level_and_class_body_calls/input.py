import re

WORD = re.compile(r"\w+")


class Parser:
    NUMBER = re.compile(r"\d+")

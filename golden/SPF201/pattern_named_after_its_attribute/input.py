import re


class Formatter:
    def __init__(self):
        self._long_break_matcher = re.compile(r"\n\n\n+")

    def collapse(self, text):
        return self._long_break_matcher.sub("\n\n", text)


def split_fields(line):
    regex_fields = re.compile(r"[,;]\s*")
    return regex_fields.split(line)

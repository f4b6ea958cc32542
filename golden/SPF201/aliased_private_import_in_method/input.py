import re as _re


class Parser:
    def __init__(self):
        self.number = _re.compile(r"^-\d+$|^-\d*\.\d+$")

    def is_negative(self, s):
        return self.number.match(s) is not None

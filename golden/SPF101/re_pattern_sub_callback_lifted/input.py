import re

RE_ESC = re.compile(r"\\(.)")
RE_STR_ESC = re.compile(r"\\(.)|\\\n")


def unescape(content, string=False):
    def replace(m):
        return m.group(1) or ""

    return (RE_ESC if not string else RE_STR_ESC).sub(replace, content)

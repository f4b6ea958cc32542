from input import unescape

print(unescape(r"a\b\c"), unescape("x\\\ny", True))

from input import Parser

p = Parser()
print(p.is_negative("-1"), p.is_negative("2"))

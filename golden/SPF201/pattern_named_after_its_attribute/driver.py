from input import Formatter, split_fields

print(repr(Formatter().collapse("a\n\n\n\nb")))
print(split_fields("a, b;c"))

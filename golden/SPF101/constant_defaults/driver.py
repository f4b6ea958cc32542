import input as m

print(m.format_table([("apples", 3), ("kiwis", 12)]))
print(repr(m.format_table([])))

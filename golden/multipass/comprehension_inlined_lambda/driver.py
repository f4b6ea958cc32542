import input as m

print(m.scaled([1, 2, 3]))
print(m.keyed({"a": [(1, 3), (2, 1)]}))

import input as m

print(m.sort_each([["ccc", "a", "bb", "b"], []]))
print(m.flat([["zz", "y"], ["x"]]))

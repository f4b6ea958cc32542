import input as m

print(m.DATA)
print(m.doubled(["a", "bc"]))
print(m.doubled_sum(range(5)))

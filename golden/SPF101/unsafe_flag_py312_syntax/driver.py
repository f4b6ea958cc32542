import input as m

print(m.swap_all([(1, 2), (3, 4)]))
print(m.Pair)

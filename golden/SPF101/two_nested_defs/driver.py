import input as m

print(m.stats([1, 2, 3, 10]))
print(m.stats([]))

import input as m

print(m.process([1, 2, 40]))
print(m.process([]))

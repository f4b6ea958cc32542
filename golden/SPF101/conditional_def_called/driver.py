import input as m

print(m.normalize([2, 4, 6]))
print(m.normalize([3, 3]))
print(m.normalize((1, 2), mode="none"))
print(m.describe([0, 1, 3]))

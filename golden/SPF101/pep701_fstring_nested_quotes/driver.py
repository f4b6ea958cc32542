import input as m

print(m.joined([1, 2, 3]))

import input as m

print(m.by_size([3, -7, 1, 0]))
print(m.by_size([]))

import input as m

print(m.area("square", 3))
print(m.area("circle", 2))
print(m.CALLS)

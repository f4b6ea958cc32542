import input as m

print(m.bump_numbers("v1.9 build 99"))
print(m.bump_numbers("a0", step=3))
print(m.bump_all(["x", "7 8"]))

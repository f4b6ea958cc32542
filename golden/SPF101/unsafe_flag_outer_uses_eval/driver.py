import input as m

print(m.RESULT)
print(m.evaluate("square(x) * 2", 3))
print(m.evaluate("x - 1", 3))

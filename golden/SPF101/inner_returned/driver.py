import input as m

print(m.SAME, m.CHECK(3), m.CHECK(-1))

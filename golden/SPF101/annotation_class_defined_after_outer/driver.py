import input as m

p = m.midpoint(m.Vec(0, 0), m.Vec(2, 6))
print(p.x, p.y)

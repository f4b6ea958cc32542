import input as m

q = [1, "abc", 2.5]
print(m.drain(q), q)
print(m.drain_copy(()))

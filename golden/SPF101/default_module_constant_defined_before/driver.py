import input as m

print(m.render([("name", "spipfix"), ("version", 1)]))

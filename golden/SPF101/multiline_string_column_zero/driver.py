import input as m

print(m.build_query("users", 10))

import input as m

print(m.encode_table([["a", 1, "x,y"], ['say "hi"', None]]))

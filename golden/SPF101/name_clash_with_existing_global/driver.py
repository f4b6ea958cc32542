import input as m

print(m.merge({"a": 1, "b": 2}, {"b": None, "c": 3, "a": 9}))
print(m._merge_pick(1, 2), m._merge_pick(None, 2))

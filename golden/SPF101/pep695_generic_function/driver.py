import input as m

print(m.first([333, 1, 22]))
print(m.Box(["a", "bb"]).sizes())
print(m.first.__type_params__)

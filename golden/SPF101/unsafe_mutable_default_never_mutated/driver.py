import input as m

print(m.join_fields([[1, 2], ["a"], []]))
print(m.as_text([["x", None]]))
print(m.join_fields([[3]]))

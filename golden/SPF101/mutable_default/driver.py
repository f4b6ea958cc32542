import input as m

print(m.group_names(["ann", "bob"]))
print(m.group_names(["cy"]))

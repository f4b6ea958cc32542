import input as m

print(m.tally(["a", "B", "b", "c", "A"]))
print(m.tally([]))

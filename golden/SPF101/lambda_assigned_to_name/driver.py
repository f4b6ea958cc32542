import input as m

print(m.summarize([1, 2, 3]))
print(m.summarize([]))
print(m.report([0.5, -2]))

import input as m

print(m.sort_versions(["1.10", "1.2", "1.2.1", "0.9"]))
print(m.latest(["2.0", "10.0", "9.9"]), m.latest([]))

import input as m

print(m.restock({"bolts": 3, "nuts": 12, "gears": 0}, 10))
print(m.restock({}, 1))

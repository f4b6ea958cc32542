import input as m

print(m.cost_table(7))
print(m.cost_table(3))
print(m.total_cost(12))

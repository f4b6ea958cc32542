import input as m

print(m.batch_totals([[1, 2], [], [10]]))
print(m.grand_total([[1, 2, 3], [4]]))

import input as m

rows = [{"name": "bolts", "qty": 120}, {"name": "nuts", "qty": 7}]
m.print_report(rows)
print(repr(m.build_report([], "x")))

import input as m

print(m.run_step(4), m.LOG)

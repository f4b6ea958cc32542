import input as m

print(m.on_shutdown(["pool"]))
print(len(m.HOOKS), m.HOOKS[0](None))
print(m.register(print))

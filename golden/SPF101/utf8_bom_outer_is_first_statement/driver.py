import input as m

print(m.GREETINGS)
print(m.greet_one("grace hopper"))

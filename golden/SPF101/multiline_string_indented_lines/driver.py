import input as m

print(repr(m.usage("mvx")))
print(repr(m.short_usage("mvx")))

import input as m

print(m.slugs(["Hello, World!", "  spipfix -- lift  ", ""]))

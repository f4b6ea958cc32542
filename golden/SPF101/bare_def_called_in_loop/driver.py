import input as m

print(m.word_lengths("Hello, world! Hello again; the end."))
print(m.word_lengths("... !!"))
print(m.longest_word("a bb ccc, dd!"))
print(m.longest_word(""))

from input import words, count_words

print(words("Hello, big world"), count_words("a b c"))

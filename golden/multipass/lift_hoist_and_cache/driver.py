from input import tokenize, vowels

print(tokenize("Hello big World"), vowels(), vowels())

import input as m

print(m.CommaTokens().split(" a, b ,c"))
print(m.ColonTokens().split("x: y :z "))

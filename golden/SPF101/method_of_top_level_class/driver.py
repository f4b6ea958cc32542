import input as m

print(m.Tokenizer().split(" A, b ,,C "))
print(m.Tokenizer(";").split("x;Y; z"))

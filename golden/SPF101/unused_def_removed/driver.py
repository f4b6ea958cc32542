import input as m

print(m.load_config(["# comment", "a = 1", "", "b=two=2", "  c  =  x "]))
print(m.load_config([]))

import input as m

print(m.read_pairs("a = 1\nnoise\nb= 2=3\n"))
print(m.read_pairs(""))

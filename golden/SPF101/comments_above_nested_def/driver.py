import input as m

print(m.checksum(b"hello world"))
print(m.hexsum(bytes(range(256))))
print(m.checksum(b""))

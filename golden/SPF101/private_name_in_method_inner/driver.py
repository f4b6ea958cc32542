import input as m

v = m.Vault("hunter2")
print(v.reveal(), v.reveal(mask=True))

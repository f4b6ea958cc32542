import input as m

print(m.settings({"retries": 5}))
print(m.settings({}))
print(m.retries({"retries": 7}), m.retries({}))

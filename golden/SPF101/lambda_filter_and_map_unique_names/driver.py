import input as m

recs = [
    {"level": "error", "msg": "disk full"},
    {"level": "info", "msg": "started"},
    {"level": "error", "msg": "oops"},
    {"msg": "no level"},
]
print(m.error_messages(recs))
print(m.count_levels(recs))

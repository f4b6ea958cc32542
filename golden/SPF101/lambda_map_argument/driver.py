import input as m

text = " 1\n# skip\n\n  22  \n-3\n"
print(m.parse_numbers(text))
print(m.total(text))
try:
    m.parse_numbers("x")
except ValueError as exc:
    print("ValueError", exc)

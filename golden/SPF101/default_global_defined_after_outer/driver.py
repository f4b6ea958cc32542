import input as m

print(m.price_with_tax(10), m.price_with_tax(0.5))

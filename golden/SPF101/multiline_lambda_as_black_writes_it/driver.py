from input import order, order_short

xs = [{"priority": 2, "name": "b"}, {"priority": 1, "name": "z"}, {"priority": 1, "name": "a"}]
print(order(xs), order_short(xs))

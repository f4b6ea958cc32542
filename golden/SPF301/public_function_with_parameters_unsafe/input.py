def scaled_total(k):
    return sum(range(100)) * k


print(scaled_total(3))

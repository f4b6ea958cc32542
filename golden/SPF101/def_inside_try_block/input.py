"""Division that never raises."""

CALLS = []


def safe_ratio(a, b):
    try:
        def divide(x, y):
            return x / y
        return round(divide(a, b), 3)
    except ZeroDivisionError:
        return float("inf")
    finally:
        CALLS.append((a, b))

"""Read integers from a text file body."""


def parse_numbers(text):
    lines = text.splitlines()
    stripped = map(lambda s: s.strip(), lines)
    return [int(s) for s in stripped if s and not s.startswith("#")]


def total(text):
    numbers = parse_numbers(text)
    return sum(numbers), len(numbers)

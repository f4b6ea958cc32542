from input import writable

print([writable(m) for m in ("w", "r", "a", "rb")])

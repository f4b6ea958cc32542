def countdown():
    for i in range(10, 0, -1):
        yield str(i) * len("ab")

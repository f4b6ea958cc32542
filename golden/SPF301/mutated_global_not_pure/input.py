COUNTER = 0
SEEN = {}


def bump():
    global COUNTER
    COUNTER = COUNTER + sum(range(100))
    return COUNTER


def seen_total():
    return len(SEEN) + sum(range(100))


def remember(key):
    SEEN[key] = sum(range(100))

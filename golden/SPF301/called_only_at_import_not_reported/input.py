def _table():
    return tuple(i * i for i in range(1000))


TABLE = _table()

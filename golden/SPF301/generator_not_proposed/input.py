def numbers():
    yield sum(range(100))


async def later():
    return sum(range(100))

"""Fetch records concurrently (simulated)."""
import asyncio


async def fetch_all(ids):
    async def fetch(item_id):
        await asyncio.sleep(0)
        return {"id": item_id, "even": item_id % 2 == 0}

    results = []
    for item_id in ids:
        results.append(await fetch(item_id))
    return results


async def main():
    first = await fetch_all([1, 2, 3])
    second = await fetch_all([])
    return first, second

"""Fetcher factory."""
import asyncio


def make_fetcher(prefix_len):
    async def fetch(path):
        await asyncio.sleep(0)
        return "/" + path

    return fetch


FETCHER = make_fetcher(1)

import asyncio

import input as m

print(asyncio.run(m.main()))
print(asyncio.run(m.fetch_all([10])))

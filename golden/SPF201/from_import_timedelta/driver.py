from datetime import datetime
from input import expires

print(expires(datetime(2024, 1, 1, 12, 0)))

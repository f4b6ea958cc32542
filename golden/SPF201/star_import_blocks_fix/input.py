import re
from os.path import *


def find_a(text):
    return re.compile("a+").search(text)

import os


def home_len():
    return len(os.environ.get("HOME", "")) + sum(range(100))


def read_config():
    with open("config.ini") as f:
        return f.read() + str(sum(range(100)))


def shout():
    print(sum(range(100)))

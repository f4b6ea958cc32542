"""Install a module-level helper on demand."""


def install(multiplier_text):
    global helper

    def helper(x):
        return x * 3

    return helper(int(multiplier_text))


install("2")
VALUE = helper(5)

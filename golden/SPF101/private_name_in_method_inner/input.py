"""A vault that hides its secret."""


class Vault:
    def __init__(self, secret):
        self.__secret = secret

    def reveal(self, mask=False):
        def show(obj):
            return obj.__secret

        value = show(self)
        return "*" * len(value) if mask else value

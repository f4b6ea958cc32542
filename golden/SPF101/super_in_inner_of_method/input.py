"""Describe objects through their parent class."""


class Base:
    def describe(self):
        return "base"


class Child(Base):
    def describe(self):
        def parent_view(obj):
            return super().describe().upper()

        return parent_view(self) + "+child"

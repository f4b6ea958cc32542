class Renderer:
    def make_test_card(self):
        def comparison_of_renderables(first_renderable: str, second_renderable: str) -> str:
            return first_renderable + second_renderable

        return comparison_of_renderables("a", "b")

    def wide(self):
        def build_the_value(x):
            return some_function_name(
                x, "a fairly long literal argument here", 123456
            )

        return build_the_value(1)


def some_function_name(*args):
    return args

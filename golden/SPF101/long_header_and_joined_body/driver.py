from input import Renderer

print(Renderer().make_test_card(), Renderer().wide())

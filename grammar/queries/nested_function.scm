; Every def and lambda: the passes keep those whose scope parent is function-like.
[
  (function_definition)
  (lambda)
] @candidate

from input import Other, Text

print(Text([" a ", "b "]).render(), Other().render())

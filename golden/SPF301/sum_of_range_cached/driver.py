from input import triangle, report

print(triangle(), triangle(), report())

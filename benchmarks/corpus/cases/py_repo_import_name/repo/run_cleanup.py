from cleaning.text import normalise_whitespace

print(normalise_whitespace("  a   b "))

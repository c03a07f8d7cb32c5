"""What the operator reads: the text catalogs and everything that renders with them.

    lang/    the es-AR and English catalogs (`t`)
    texts    numbers, readings, errors and live views as words
    chart    a live view's PNG chart

Renders what the domain decided; decides nothing itself.
"""

"""What the operator reads: the text catalogs and everything that renders with them.

    lang/      the es-AR and English catalogs (`t`)
    numbers    rates, shares of the plan, durations, clock times
    markup     values from outside escaped for Slack (`literal`); mrkdwn → plain text
    terminal   text from outside made safe for a terminal
    reading    a reading's verdict, figures, notes and warnings; its terminal and
               ``--json`` views
    errors     errors and refusals: what happened and what to do
    live       a live view's sentences
    chart      a live view's PNG chart

Renders what the domain decided (`Reading.assessment`, `LiveView.now` and
`stats`); decides nothing itself, and imports nothing of `bot.domain`.
"""

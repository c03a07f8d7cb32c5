"""The ``beholder`` command line: nodes, sync, consumo, audit, serve, doctor, demo.

main      the argument parser and one function per subcommand
progress  the sync's progress bar on a terminal
doctor    one line per check of what `serve` needs, with what to do
demo      every sample reply rendered against the simulator
"""

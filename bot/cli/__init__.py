"""The ``beholder`` command line: nodes, sync, consumo, audit, serve, demo.

main      the argument parser and one function per subcommand
progress  the sync's progress bar on a terminal
demo      every sample reply rendered against the simulator
"""

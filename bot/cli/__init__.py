"""The ``beholder`` command line.

    main      the argument parser, dispatch, one error line and an exit code
    admin     ``nodes`` and ``connections``: the admin's side of the inventory
    commands  ``sync``, ``consumo``, ``diag``, ``audit``, ``serve``, ``demo``
    doctor    one line per check of what ``serve`` needs, with what to do;
              doctor_remote asks Slack and the nodes, findings holds the lines
    report    exit codes and the tables printed (sync results, lists)
    progress  the sync's progress bar on a terminal
    demo      every sample reply rendered against the simulator

Errors end as one line on stderr and a non-zero exit code, never a traceback.
"""

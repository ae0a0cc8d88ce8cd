"""`abtool gate`: run the reports a rollout policy names and gate CI on all of them.

- :mod:`abtool.gate.kinds`: the registry of gate kinds (``shadow`` ...) and how each policy key
  maps onto its report function.
- :mod:`abtool.gate.policy`: read and fully validate a policy TOML before anything runs.
- :mod:`abtool.gate.run`: run every gate and combine the verdicts into one exit code.
- :mod:`abtool.gate.junit`: the JUnit XML view of a run, for CI test reports.
"""

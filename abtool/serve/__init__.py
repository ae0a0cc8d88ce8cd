"""`abtool serve`: a read-only HTTP service that evaluates the gates of a rollout policy.

Rollout controllers poll it: Argo Rollouts' web metric provider reads ``$.verdict`` of
``GET /gates/NAME`` (PROMOTE → success, ROLLBACK → failure, HOLD → inconclusive), and Flagger's
webhooks call ``/gates/NAME/promote`` and ``/gates/NAME/rollback``, whose status code answers
the hook's question. See docs/serve.md.

- :mod:`abtool.serve.adapter`: the one place that calls :mod:`abtool.gate` (load the policy,
  apply query parameters, run one gate, return its JSON dict).
- :mod:`abtool.serve.query`: query parameters → a gate's options, validated like policy keys.
- :mod:`abtool.serve.slots`: the bounded pool evaluations run in (503 when it is full).
- :mod:`abtool.serve.server`: the HTTP server (routes, status codes, timeouts).
"""

"""The corpus: malformed and adversarial inputs, each with the outcome abtool must give.

One module per area (files, schemas, values, settings, outputs, escaping) registers its
cases with :func:`tests.corpus.base.case`; tests/test_corpus.py runs them all.
"""

from __future__ import annotations

from tests.corpus import escaping, files, outputs, schemas, settings, values
from tests.corpus.base import CASES, Case, Outcome

AREAS = (files, schemas, values, settings, outputs, escaping)

__all__ = ["AREAS", "CASES", "Case", "Outcome"]

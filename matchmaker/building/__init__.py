"""Exchange building: from an accepted pair to the documents of its exchange.

The Commitment to Quality drafts (:mod:`matchmaker.building.ctq`): for every accepted or
locked pair of the ledger, an editable ``.docx`` and a readable HTML preview, pre-filled
from the round's registrations and the pair's proposal; the parts people must finish are
marked ``[to complete: ...]`` (docs/decisions.md §40).
"""

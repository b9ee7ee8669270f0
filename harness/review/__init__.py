"""Clinical reviews, in parts: the review tables (``schema``), the review queue (``queue``), agreement and
ranking (``summary``) and the preference export (``export``). ``harness.reviews`` holds reviewers, blind
order and saving votes, and re-exports these, so ``from harness.reviews import ...`` keeps working.
"""

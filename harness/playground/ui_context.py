"""What every tab's handlers share: the engine, who is asking, and what they may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.playground.accounts import ReviewerAccounts
from harness.playground.engine import Playground
from harness.reviews import clean_reviewer_name, queue_counts

SHORTCUTS_HELP = "Keys: **1–4** choose · **t** tie · **b** all bad · **s** submit · **n** next case"

# Keyboard shortcuts (launch(js=...)): only when no text field has focus, so typing a comment or a
# prompt never votes. Radios are picked by their order in the vote group, tie / all bad by value.
SHORTCUTS_JS = """
() => {
  if (window.__reviewShortcuts) return;
  window.__reviewShortcuts = true;
  const typing = (el) => el && (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' &&
      !['radio', 'checkbox'].includes(el.type)) || el.isContentEditable);
  const pick = (pred) => {
    const inputs = [...document.querySelectorAll('#vote input[type=radio]')].filter((i) => !i.disabled);
    const hit = inputs.find(pred);
    if (hit) { hit.click(); hit.focus(); return true; }
    return false;
  };
  const click = (id) => { const b = document.getElementById(id); if (b && !b.disabled) b.click(); };
  document.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    const k = ev.key.toLowerCase();
    let done = false;
    if (['1', '2', '3', '4'].includes(k)) {
      const labels = [...document.querySelectorAll('#vote input[type=radio]')]
          .filter((i) => !['tie', 'both_bad'].includes(i.value));
      const target = labels[Number(k) - 1];
      done = !!target && pick((i) => i === target);
    } else if (k === 't') { done = pick((i) => i.value === 'tie');
    } else if (k === 'b') { done = pick((i) => i.value === 'both_bad');
    } else if (k === 's') { click('submit-vote'); done = true;
    } else if (k === 'n') { click('next-assigned'); done = true; }
    if (done) ev.preventDefault();
  });
}
"""


@dataclass
class AppContext:
    engine: Playground
    accounts: ReviewerAccounts | None

    def identify(self, request: Any, typed: str | None) -> str | None:
        """The logged-in username; without login, the typed name (never trusted when login is on)."""
        if self.accounts is not None:
            return getattr(request, "username", None)
        return clean_reviewer_name(typed)

    def is_admin(self, request: Any) -> bool:
        return self.accounts is None or self.accounts.is_admin(getattr(request, "username", None))

    def queue_text(self, reviewer: str | None) -> str:
        """Progress through the reviewer's queue: 'Case k of N'."""
        if not reviewer:
            return "_Enter your name to see your review queue._" if self.accounts is None else ""
        with self.engine.store() as store:
            open_, done = queue_counts(store, reviewer)
        total = open_ + done
        if total == 0:
            return "No cases assigned to you; pick any case below."
        if open_ == 0:
            return f"Queue done: **{done} of {total}** cases reviewed. Thank you!"
        return f"Your queue: case **{done + 1} of {total}** ({done} done, {open_} open)."

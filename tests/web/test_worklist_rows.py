"""A worklist row is rendered once for what it shows and reused: a change to the step, the
language, the session (CSRF token) or a colleague's name renders it anew."""

from __future__ import annotations

from datetime import date

from essence.services.views import WorkItemView
from essence.web import i18n, render


def _item(**changes: object) -> WorkItemView:
    values: dict[str, object] = {
        "case_id": "c-1",
        "personnummer": "20190312-****",
        "child_name": "Elsa <Test>",
        "step_key": "language_assessment",
        "title": "Language assessment",
        "state": "ready",
        "ready_on": date(2026, 12, 1),
        "planned_on": None,
        "minutes": 90,
        "joint_with": ["psy-1"],
    }
    values.update(changes)
    return WorkItemView(**values)  # type: ignore[arg-type]


def test_the_same_row_is_reused_and_any_change_renders_it_anew() -> None:
    names = {"psy-1": "Per Psykolog"}
    with i18n.speaking("sv"):
        first = render.worklist_row(_item(), "token-a", names)
        again = render.worklist_row(_item(), "token-a", names)
        held = render.worklist_row(_item(state="on-hold"), "token-a", names)
        other_session = render.worklist_row(_item(), "token-b", names)
        renamed = render.worklist_row(_item(), "token-a", {"psy-1": "Pia Psykolog"})
    with i18n.speaking("en"):
        english = render.worklist_row(_item(), "token-a", names)
    assert again is first
    assert "Elsa &lt;Test&gt;" in first and "<Test>" not in first
    assert "Per Psykolog" in first and 'value="token-a"' in first
    assert "state-on-hold" in held and "state-ready" not in held
    assert 'value="token-b"' in other_session and "token-a" not in other_session
    assert "Pia Psykolog" in renamed
    assert english != first and "Complete" in english


def test_the_kept_rows_are_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(render, "ROWS_KEPT", 3)
    monkeypatch.setattr(render, "_ROWS", {})
    with i18n.speaking("sv"):
        for minutes in range(10):
            render.worklist_row(_item(minutes=minutes), "t", {})
    assert len(render._ROWS) == 3

"""The second pass: links between nodes, expressions, registries and templates, each error at
the exact file:line:col (the journey's, or the template's own)."""

from __future__ import annotations

from pathlib import Path

from journeykit.language.checks import check_journey, validate_paths
from journeykit.language.loading import read_journey
from tests.language.conftest import (
    ACTIONS,
    AUDIENCES,
    BROKEN,
    FIXTURES,
    GOOD,
    TEMPLATES,
    validate,
    where,
)


def errors_only(found):
    return [e for e in found if e.is_error]


def test_good_journey_has_no_errors_or_warnings():
    assert validate(GOOD) == []


def test_check_journey_api():
    loaded = read_journey(GOOD)
    found = check_journey(
        loaded, templates_dir=TEMPLATES, known_actions=set(), known_audiences=AUDIENCES
    )
    assert [where(e) for e in found] == [("good.yaml", 39, 13)]
    assert "'issue_store_credit', which is not a registered action" in found[0].message


def test_dangling_id_with_suggestion(broken):
    dangling = [e for e in broken("dangling") if "no such node" in e.message]
    assert [where(e) for e in dangling] == [("dangling.yaml", 9, 11)]
    assert dangling[0].message == (
        "wait node 'pause' says next: 'thank_yuo' but there is no such node"
        " — did you mean 'thank_you'?"
    )


def test_unreachable_node(broken):
    (error,) = broken("unreachable")
    assert where(error) == ("unreachable.yaml", 10, 5)
    assert "'orphan' can never be reached from the start ('pause')" in error.message


def test_loop_without_wait(broken):
    (error,) = broken("loop")
    assert where(error) == ("loop.yaml", 6, 5)
    assert "check → poke → check has no wait or wait_for" in error.message


def test_too_long_waits(broken):
    found = broken("long_wait")
    assert [where(e) for e in found] == [("long_wait.yaml", 8, 15), ("long_wait.yaml", 14, 14)]
    assert all("400-day limit" in e.message for e in found)


def test_missing_template_with_suggestion(broken):
    (error,) = broken("missing_template")
    assert where(error) == ("missing_template.yaml", 9, 15)
    assert "shop/thnaks.en.email.html does not exist" in error.message
    assert error.hint == "did you mean 'shop/thanks'?"


def test_missing_ko_and_ja_are_warnings(broken):
    found = broken("missing_locales")
    assert [(where(e), e.severity) for e in found] == [
        (("missing_locales.yaml", 9, 15), "warning"),
        (("missing_locales.yaml", 9, 15), "warning"),
    ]
    assert {"ja", "ko"} == {e.message.split(" has no ")[1][:2] for e in found}


def test_undeclared_template_variable(broken):
    (error,) = errors_only(broken("undeclared"))
    assert where(error) == ("undeclared.en.email.html", 6, 26)
    assert "'cart', which an order journey does not provide" in error.message
    assert error.hint is not None and "order, " in error.hint


def test_template_syntax_error_at_template_line(broken):
    (error,) = errors_only(broken("template_syntax"))
    assert where(error) == ("broken.en.email.html", 5, 1)
    assert error.message.startswith("template syntax:")


def test_reserved_keyword_in_sms(broken):
    (error,) = errors_only(broken("sms_keyword"))
    assert where(error) == ("keyword.en.sms.txt", 2, 7)
    assert "'CANCEL'" in error.message and "blocked by the carrier" in error.message
    assert error.hint is not None and "Reply 1 to" in error.hint


def test_links_must_be_node_actions(broken):
    (error,) = errors_only(broken("links"))
    assert where(error) == ("refund.en.email.html", 6, 16)
    assert "links.refund" in error.message


def test_name_must_match_file(broken):
    (error,) = broken("wrong_name")
    assert where(error) == ("wrong_name.yaml", 2, 7)


def test_unregistered_action_and_audience(broken):
    found = broken("unregistered")
    assert [where(e) for e in found] == [
        ("unregistered.yaml", 5, 13),
        ("unregistered.yaml", 10, 13),
    ]
    assert "did you mean 'restock_signups'?" in found[0].message
    assert "did you mean 'cancel_order'?" in found[1].message


def test_expressions(broken):
    found = broken("bad_expression")
    assert [where(e) for e in found] == [
        ("bad_expression.yaml", 5, 11),
        ("bad_expression.yaml", 11, 16),
    ]
    assert "uses 'order', which is not available here" in found[0].message
    assert "is not a valid expression" in found[1].message


def test_registries_are_skipped_when_unknown():
    found = validate_paths([BROKEN / "unregistered.yaml"], templates_dir=TEMPLATES)
    assert found == []


def test_directories_expand_and_missing_paths_are_errors(tmp_path: Path):
    found = validate_paths(
        [FIXTURES / "journeys", tmp_path / "nope"],
        templates_dir=TEMPLATES,
        known_actions=ACTIONS,
        known_audiences=AUDIENCES,
    )
    assert [e.message for e in found] == ["no such file or directory"]


def test_whole_broken_directory_reports_every_file():
    found = validate_paths(
        [BROKEN], templates_dir=TEMPLATES, known_actions=ACTIONS, known_audiences=AUDIENCES
    )
    files = {Path(e.path).stem for e in found if e.path.endswith(".yaml")}
    assert files == {p.stem for p in BROKEN.glob("*.yaml")}


def test_an_allotment_reads_the_subject_alone(broken):
    """An allotment is the same for every customer of the subject: a customer name in its
    ``max`` is an error at that line."""
    (error,) = [e for e in broken("bad_allotment") if "allotment" in e.message]
    assert where(error)[:2] == ("bad_allotment.yaml", 12)
    assert "uses 'customer', which is not available here" in error.message

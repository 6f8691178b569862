"""The email templates: every one renders, needs all its keys, escapes HTML and ships."""

from __future__ import annotations

from importlib import resources

import jinja2
import jinja2.meta
import pytest

from authgate.errors import AuthgateError
from authgate.mail import (
    TEMPLATE_KEYS,
    InvalidMailHeader,
    InvalidTemplateValue,
    MissingTemplateKey,
    UnknownTemplate,
    render,
)

LINK = "https://id.example.com/v1/accept?token=tok_abc123&next=%2Fhome"

CONTEXTS: dict[str, dict[str, str]] = {
    "invite": {
        "org_name": "Acme Corp",
        "inviter_name": "Ada Admin",
        "role": "member",
        "link": LINK,
        "expires_at": "2030-01-08 12:00 UTC",
    },
    "verify_email": {
        "display_name": "Bea User",
        "link": LINK,
        "expires_at": "2030-01-02 12:00 UTC",
    },
    "reset_password": {
        "display_name": "Bea User",
        "link": LINK,
        "expires_at": "2030-01-01 13:00 UTC",
    },
    "password_changed": {"display_name": "Bea User"},
    "join_request_received": {
        "org_name": "Acme Corp",
        "user_email": "bea@example.net",
        "user_name": "Bea User",
        "link": LINK,
    },
    "join_request_submitted": {"org_name": "Acme Corp", "display_name": "Bea User"},
    "join_request_decided": {
        "org_name": "Acme Corp",
        "display_name": "Bea User",
        "decision": "approved",
    },
    "welcome": {"org_name": "Acme Corp", "display_name": "Bea User"},
}

MISSING = [(template, key) for template, context in CONTEXTS.items() for key in context]
SCRIPT = "<script>alert(1)</script>"
FREE_TEXT_KEYS = {"org_name", "inviter_name", "role", "display_name", "user_name", "user_email"}


def test_the_registry_lists_exactly_the_documented_templates_and_keys() -> None:
    assert {name: set(keys) for name, keys in TEMPLATE_KEYS.items()} == {
        name: set(context) for name, context in CONTEXTS.items()
    }


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_every_template_renders_a_subject_text_and_html(template: str) -> None:
    rendered = render(template, CONTEXTS[template])
    assert rendered.subject
    assert "\n" not in rendered.subject
    assert rendered.subject == rendered.subject.strip()
    assert rendered.text.endswith("\n")
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in rendered.html
    for value in CONTEXTS[template].values():
        if value != LINK:
            assert value in rendered.text, value
    if "link" in CONTEXTS[template]:
        assert LINK in rendered.text
        # The HTML carries the link in an href, with & escaped as an attribute requires.
        assert f'href="{LINK.replace("&", "&amp;")}"' in rendered.html


@pytest.mark.parametrize(("template", "key"), MISSING)
def test_a_missing_key_is_an_error_naming_it(template: str, key: str) -> None:
    context = {k: v for k, v in CONTEXTS[template].items() if k != key}
    with pytest.raises(MissingTemplateKey) as caught:
        render(template, context)
    assert key in str(caught.value)
    assert template in str(caught.value)
    assert caught.value.code == "mail_template_key_missing"
    # Values of the context (links carry tokens) never appear in the error.
    assert "tok_abc123" not in str(caught.value)


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_templates_use_no_key_outside_the_registry(template: str) -> None:
    env = jinja2.Environment(autoescape=True)
    folder = resources.files("authgate.mail").joinpath("templates")
    used: set[str] = set()
    for part in ("subject", "txt", "html"):
        source = folder.joinpath(f"{template}.{part}.j2").read_text(encoding="utf-8")
        used |= jinja2.meta.find_undeclared_variables(env.parse(source))
    used.discard("action")  # the macro imported by the HTML parts
    assert used == set(TEMPLATE_KEYS[template])


def test_every_template_file_ships_as_package_data() -> None:
    folder = resources.files("authgate.mail").joinpath("templates")
    shipped = {entry.name for entry in folder.iterdir() if entry.name.endswith(".j2")}
    expected = {
        f"{name}.{part}.j2" for name in TEMPLATE_KEYS for part in ("subject", "txt", "html")
    }
    assert expected <= shipped
    assert {name for name in shipped - expected if not name.startswith("_")} == set()


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_html_escapes_markup_in_every_free_text_value(template: str) -> None:
    context = {
        key: (SCRIPT if key in FREE_TEXT_KEYS else value)
        for key, value in CONTEXTS[template].items()
    }
    rendered = render(template, context)
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    # Plain text is not markup: the value is shown as it is.
    assert SCRIPT in rendered.text


def test_a_script_in_the_display_name_is_escaped() -> None:
    rendered = render("reset_password", {**CONTEXTS["reset_password"], "display_name": SCRIPT})
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;," in rendered.html
    assert "<script" not in rendered.html


def test_a_quote_cannot_break_out_of_the_link_attribute() -> None:
    link = 'https://id.example.com/a?x="><img src=x onerror=alert(1)>'
    rendered = render("verify_email", {**CONTEXTS["verify_email"], "link": link})
    assert "<img" not in rendered.html
    assert "&#34;&gt;&lt;img" in rendered.html


def test_invite_wording() -> None:
    rendered = render("invite", CONTEXTS["invite"])
    assert rendered.subject == "You're invited to join Acme Corp on authgate"
    assert "Ada Admin invited you to join Acme Corp" in rendered.text
    assert "Accept the invitation" in rendered.html


def test_reset_password_says_nothing_changed_when_not_asked() -> None:
    rendered = render("reset_password", CONTEXTS["reset_password"])
    for body in (rendered.text, rendered.html):
        assert "If you did not ask for this, ignore this email: nothing has changed" in body


def test_password_changed_says_to_reset_when_it_was_not_them() -> None:
    rendered = render("password_changed", CONTEXTS["password_changed"])
    for body in (rendered.text, rendered.html):
        assert "If it was not you" in body
        assert "reset your password" in body


@pytest.mark.parametrize(
    ("decision", "wording"),
    [("approved", "was approved. You can now sign in"), ("denied", "was denied.")],
)
def test_join_request_decided_wording(decision: str, wording: str) -> None:
    rendered = render(
        "join_request_decided", {**CONTEXTS["join_request_decided"], "decision": decision}
    )
    assert rendered.subject == f"Your request to join Acme Corp was {decision}"
    assert wording in rendered.text
    assert wording in rendered.html


@pytest.mark.parametrize("decision", ["", "Approved", "maybe", "approved\n"])
def test_an_unknown_decision_is_refused(decision: str) -> None:
    with pytest.raises(InvalidTemplateValue, match="decision"):
        render("join_request_decided", {**CONTEXTS["join_request_decided"], "decision": decision})


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "data:text/html,<b>x</b>", "/relative/path", "ftp://x", ""],
)
def test_a_link_that_is_not_http_is_refused(link: str) -> None:
    with pytest.raises(InvalidTemplateValue, match="link") as caught:
        render("reset_password", {**CONTEXTS["reset_password"], "link": link})
    assert "alert" not in str(caught.value)


@pytest.mark.parametrize("name", ["nope", "INVITE", "../invite", "invite.txt", "_layout", ""])
def test_an_unknown_template_is_a_clear_error(name: str) -> None:
    with pytest.raises(UnknownTemplate) as caught:
        render(name, {})
    error = caught.value
    assert isinstance(error, ValueError)
    assert isinstance(error, AuthgateError)
    assert repr(name) in str(error)
    assert "invite" in str(error)  # lists the known ones


@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\u2028", "\x85", "\x00"])
def test_a_value_that_breaks_the_subject_line_is_refused(breaker: str) -> None:
    context = {**CONTEXTS["welcome"], "org_name": f"Acme{breaker}Bcc: victim@example.net"}
    with pytest.raises(InvalidMailHeader, match="subject"):
        render("welcome", context)

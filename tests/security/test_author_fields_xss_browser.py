"""The XSS corpus from the admin forms, loaded in Chromium: nothing runs, CSP stays quiet.

Every page gets a script before its own that turns alert/confirm/prompt into recorders,
and listens for CSP violations; the test also records dialogs, navigations away and
script requests to other hosts, and looks at the DOM the browser actually built (what
an HTML parser makes of broken markup can differ from what the sanitiser saw).
"""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from newsletter.rendering import Recipient, render_issue
from tests.e2e.conftest import app_server, browser, mailbox, open_page  # noqa: F401
from tests.factories import make_newsletter
from tests.security.author_xss import BODY_ISSUES, corpus_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORDERS = """
window.__xss = [];
window.__csp = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__xss.push(name + "(" + args.join(",") + ")"); };
}
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push(event.violatedDirective + " " + event.blockedURI);
});
"""
# What the DOM may not hold once the browser has parsed the page.
DOM_CHECK = """() => {
  const found = [];
  for (const element of document.querySelectorAll("*")) {
    const tag = element.tagName.toLowerCase();
    if (tag === "script" && !(element.getAttribute("src") || "").startsWith("/static/")) {
      found.push("script: " + element.outerHTML.slice(0, 80));
    }
    if (["iframe", "object", "embed", "base", "frame"].includes(tag)) found.push(tag);
    for (const attribute of element.attributes) {
      if (attribute.name.startsWith("on")) found.push(attribute.name + " on " + tag);
      if (!["href", "src", "action", "formaction", "xlink:href"].includes(attribute.name)) continue;
      let protocol = "";
      try { protocol = new URL(attribute.value, document.baseURI).protocol; } catch (e) {}
      const scripted = ["javascript:", "vbscript:"].includes(protocol);
      if (scripted || (protocol === "data:" && tag !== "img")) {
        found.push(attribute.name + "=" + attribute.value.slice(0, 60) + " on " + tag);
      }
    }
  }
  return found;
}"""


@pytest.fixture
def corpus(app_server, settings):  # noqa: F811
    """The corpus saved through the admin forms by a logged-in staff member."""
    settings.SITE_URL = app_server.url  # stored HTML carries absolute URLs of the site
    author = User.objects.create_superuser("author", "author@example.org", "a-long-pass-phrase")
    admin_client = Client()
    admin_client.force_login(author)
    return corpus_site(admin_client, make_newsletter())


@pytest.fixture
def watched(open_page):  # noqa: F811
    """A page whose every frame gets the recorders, plus what the page itself reports."""
    page = open_page()
    page.context.add_init_script(RECORDERS)
    page.dialogs = []
    page.foreign_scripts = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on(
        "request",
        lambda request: (
            request.resource_type == "script"
            and not request.url.startswith("http://127.0.0.1")
            and page.foreign_scripts.append(request.url)
        ),
    )
    return page


def assert_nothing_ran(page, url, check_dom=True):
    page.wait_for_timeout(100)  # handlers on load and timers of 0 ms have fired by now
    assert page.url == url, f"navigated away to {page.url}"
    assert page.evaluate("window.__xss") == [], url
    assert page.evaluate("window.__csp") == [], url
    if check_dom:  # the admin's own page has its scripts and the preview frames
        assert page.evaluate(DOM_CHECK) == [], url
    assert page.dialogs == [] and page.foreign_scripts == [], url
    assert not [error for error in page.console_errors if "Content Security Policy" in error]


def test_the_corpus_runs_nowhere_in_the_archive_or_the_mails(app_server, corpus, watched):  # noqa: F811
    newsletter, issues = corpus
    landing = app_server.url + newsletter.get_absolute_url()
    urls = [app_server.url + "/", landing, landing + "?page=2"]
    urls += [app_server.url + issue.get_absolute_url() for issue in issues[:BODY_ISSUES]]
    urls += [f"{landing}subscribe/"]
    for url in urls:
        response = watched.goto(url)
        assert response.status == 200, url
        assert_nothing_ran(watched, url)

    # The mails as a mail client without its own protection would show them: no CSP.
    reader = Recipient(email="reader@example.org", name="Ada")
    for issue in issues[:BODY_ISSUES]:
        _subject, mail_html, _text = render_issue(issue).personalise(reader)
        watched.goto("about:blank")
        watched.set_content(mail_html)
        assert_nothing_ran(watched, "about:blank")


def test_the_corpus_runs_nowhere_in_the_editor_and_its_preview(app_server, corpus, watched):  # noqa: F811
    _newsletter, issues = corpus
    page = watched
    page.goto(app_server.url + "/admin/login/")
    page.fill("#id_username", "author")
    page.fill("#id_password", "a-long-pass-phrase")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    for issue in issues[:BODY_ISSUES]:
        url = f"{app_server.url}/admin/newsletter/issue/{issue.pk}/change/"
        page.goto(url)
        page.wait_for_function(
            "() => document.querySelector('iframe.rb-frame-desktop').src.includes('/preview/')"
        )
        # The frame's own navigation lags its src: wait for the frame, not the attribute.
        preview = page.locator("iframe.rb-frame-desktop").element_handle().content_frame()
        preview.wait_for_url(lambda frame_url: "/preview/" in frame_url)
        preview.wait_for_load_state()
        assert preview.evaluate(DOM_CHECK) == [], issue.slug
        assert_nothing_ran(page, url, check_dom=False)


def test_the_recorders_do_see_a_script_that_runs(watched):
    """The control: the same checks catch a payload that the sanitiser had let through."""
    watched.goto("about:blank")
    watched.set_content('<img src="x" onerror="alert(1)"><a href="javascript:confirm(2)">x</a>')
    watched.wait_for_timeout(100)
    assert watched.evaluate("window.__xss") == ["alert(1)"]
    assert len(watched.evaluate(DOM_CHECK)) == 2

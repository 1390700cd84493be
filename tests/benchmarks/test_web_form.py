from benchmarks.web import FormFields

PAGE = """
<form method="get" action="/search"><input name="q" value="nope"></form>
<form method="post" action="/weekly/subscribe/">
  <input type="hidden" name="csrfmiddlewaretoken" value="tok">
  <input type="email" name="email">
  <input type="text" name="name">
  <input type="checkbox" name="consent" value="yes">
  <input type="text" name="website" value="">
  <input type="submit" name="go" value="Subscribe">
</form>
"""


def test_it_reads_every_named_field_of_the_first_post_form():
    form = FormFields()
    form.feed(PAGE)
    assert form.action == "/weekly/subscribe/"
    assert form.fields == {
        "csrfmiddlewaretoken": "tok",
        "email": "",
        "name": "",
        "consent": "yes",
        "website": "",
    }

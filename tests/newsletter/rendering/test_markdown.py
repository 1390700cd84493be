"""Markdown features authors rely on: CommonMark, tables, footnotes, autolinks, videos."""

from newsletter.rendering import render_markdown


def test_commonmark_basics():
    html = render_markdown("# Title\n\nSome *em* and **strong** and `code`.\n\n1. one\n2. two")

    assert "<h1>Title</h1>" in html
    assert "<em>em</em>" in html and "<strong>strong</strong>" in html
    assert "<code>code</code>" in html
    assert "<ol>\n<li>one</li>" in html


def test_tables_keep_their_alignment_without_style_attributes():
    html = render_markdown("| a | b |\n|:-:|--:|\n| 1 | 2 |")

    assert '<th align="center">a</th>' in html
    assert '<td align="right">2</td>' in html
    assert "style=" not in html


def test_footnotes_link_both_ways():
    html = render_markdown("Claim.[^1]\n\n[^1]: Source.")

    assert '<a href="#fn1" id="fnref1">[1]</a>' in html
    assert 'id="fn1"' in html and 'href="#fnref1"' in html


def test_bare_urls_become_links():
    html = render_markdown("See https://example.com/page and www.example.org.")

    assert '<a href="https://example.com/page">https://example.com/page</a>' in html
    assert '<a href="http://www.example.org">www.example.org</a>' in html


def test_images_are_kept():
    html = render_markdown('![A chart](https://example.com/chart.png "Sales")')

    assert '<img src="https://example.com/chart.png" alt="A chart" title="Sales">' in html


def test_a_youtube_link_on_its_own_line_becomes_a_linked_thumbnail():
    html = render_markdown("Watch this:\n\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ\n")

    assert (
        '<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">'
        '<img src="https://img.youtube.com/vi/dQw4w9WgXcQ/hqdefault.jpg" alt="Play the video">'
        "</a>"
    ) in html
    assert "<iframe" not in html


def test_a_vimeo_link_becomes_a_play_picture_linking_to_the_video():
    html = render_markdown("https://vimeo.com/76979871")

    assert '<a href="https://vimeo.com/76979871"><img src="http://testserver/static/img/' in html


def test_a_video_link_inside_a_sentence_stays_a_plain_link():
    html = render_markdown("See https://youtu.be/dQw4w9WgXcQ for more.")

    assert "<img" not in html
    assert '<a href="https://youtu.be/dQw4w9WgXcQ">' in html


def test_a_video_link_in_a_code_block_is_left_alone():
    html = render_markdown("```\nhttps://youtu.be/dQw4w9WgXcQ\n```")

    assert "<img" not in html
    assert "<pre><code>https://youtu.be/dQw4w9WgXcQ\n</code></pre>" in html

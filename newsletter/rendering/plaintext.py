"""Sanitised issue HTML to a readable plain-text part: wrapped paragraphs, list bullets,
quotes, underlined headings, and links numbered in the text and listed at the end."""

import re
import textwrap
from html.parser import HTMLParser

LIST_START_RE = re.compile(r"[0-9]{1,6}")

WIDTH = 76
BLOCK_TAGS = {
    "p", "div", "section", "figure", "figcaption", "table", "caption", "dl", "dt", "dd",
    "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
SPACES_RE = re.compile(r"\s+")


class TextConverter(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines = []
        self.words = []  # inline text of the block being read
        self.links = []
        self.link_stack = []
        self.lists = []  # one entry per open list: [kind, next number]
        self.quote_depth = 0
        self.pre_depth = 0
        self.row = None
        self.heading = None
        self.pending_bullet = None  # "- " or "3. " until the list item's first line

    # -- output ---------------------------------------------------------------------
    def prefix(self):
        return "> " * self.quote_depth + "   " * max(len(self.lists) - 1, 0)

    def blank_line(self):
        if self.lines and self.lines[-1].strip("> "):
            self.lines.append(self.prefix().rstrip())

    def flush(self):
        text = SPACES_RE.sub(" ", "".join(self.words)).strip()
        self.words = []
        if not text:
            return False
        first_prefix, self.pending_bullet = self.pending_bullet, None
        prefix = self.prefix()
        first = prefix + first_prefix if first_prefix else prefix
        rest = prefix + " " * len(first_prefix or "")
        wrapped = textwrap.wrap(
            text, WIDTH, initial_indent=first, subsequent_indent=rest,
            break_long_words=False, break_on_hyphens=False,
        )  # fmt: skip
        self.lines.extend(wrapped)
        return True

    def underline(self, level):
        if level <= 2 and self.lines:
            length = min(len(self.lines[-1]) - len(self.prefix()), WIDTH)
            self.lines.append(self.prefix() + ("=" if level == 1 else "-") * length)

    # -- parser callbacks -----------------------------------------------------------
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in BLOCK_TAGS or tag in ("ul", "ol", "blockquote", "pre", "li", "hr", "tr"):
            self.start_block(tag, attrs)
        elif tag == "br":
            self.handle_br()
        elif tag == "a":
            self.link_stack.append((attrs.get("href") or "", len(self.words)))
        elif tag == "img":
            alt = (attrs.get("alt") or "").strip()
            self.words.append(f"[{alt}]" if alt else "")
        elif tag in ("td", "th") and self.row is not None and self.row_has_cells():
            self.words.append(" | ")

    def row_has_cells(self):
        return bool("".join(self.words).strip())

    def start_block(self, tag, attrs):
        if self.pre_depth:
            return
        self.finish_item_text()
        if tag in ("ul", "ol"):
            start = attrs.get("start") or "1"
            # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
            start = int(start) if LIST_START_RE.fullmatch(start) else 1
            self.lists.append([tag, start])
            if len(self.lists) == 1:
                self.blank_line()
        elif tag == "li":
            self.words = []
            self.pending_bullet = self.bullet()
        elif tag == "blockquote":
            self.blank_line()
            self.quote_depth += 1
        elif tag == "pre":
            self.blank_line()
            self.pre_depth += 1
        elif tag == "hr":
            self.blank_line()
            self.lines.append(self.prefix() + "-" * 20)
            self.blank_line()
        elif tag == "tr":
            self.row = []
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.blank_line()
            self.heading = int(tag[1])
        elif not self.lists:
            self.blank_line()

    def finish_item_text(self):
        """Text before a nested block belongs to the enclosing list item."""
        if self.lists and self.words:
            self.flush()

    def bullet(self):
        kind, number = self.lists[-1]
        if kind == "ol":
            self.lists[-1][1] += 1
            return f"{number}. "
        return "- "

    def handle_endtag(self, tag):
        if tag == "pre":
            self.end_pre()
        elif self.pre_depth:
            return
        elif tag == "a":
            self.end_link()
        elif tag == "li":
            self.flush()
            self.pending_bullet = None
        elif tag in ("ul", "ol"):
            self.finish_item_text()
            self.lists.pop()
            if not self.lists:
                self.blank_line()
        elif tag == "blockquote":
            self.flush()
            self.quote_depth = max(self.quote_depth - 1, 0)
            self.blank_line()
        elif tag == "tr":
            self.flush()
            self.row = None
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            level, self.heading = self.heading or 3, None
            if level > 2:
                self.words.insert(0, "#" * level + " ")
            if self.flush():
                self.underline(level)
            self.blank_line()
        elif tag in BLOCK_TAGS:
            self.flush()
            if not self.lists:
                self.blank_line()

    def end_pre(self):
        self.pre_depth = max(self.pre_depth - 1, 0)
        code = "".join(self.words).strip("\n")
        self.words = []
        self.lines.extend(self.prefix() + "    " + line for line in code.split("\n"))
        self.blank_line()

    def end_link(self):
        if not self.link_stack:
            return
        href, start = self.link_stack.pop()
        label = SPACES_RE.sub(" ", "".join(self.words[start:])).strip()
        if href.startswith("#fnref"):  # a footnote's "back to the text" arrow
            del self.words[start:]
            return
        if href.startswith("#fn"):  # a footnote reference: [1] would look like a link
            self.words[start:] = [f"[^{label.strip('[]')}]"]
            return
        if not href or href.startswith("#"):
            return
        if label in (href, re.sub(r"^(https?://|mailto:)", "", href)):
            return  # the address is already visible in the text
        if href not in self.links:
            self.links.append(href)
        self.words.append(f" [{self.links.index(href) + 1}]")

    def handle_br(self):
        if self.pre_depth:
            self.words.append("\n")
        else:
            self.flush()

    def handle_data(self, data):
        self.words.append(data)

    def text(self):
        self.flush()
        body = "\n".join(line.rstrip() for line in self.lines).strip("\n")
        body = re.sub(r"\n{3,}", "\n\n", body)
        return body


def html_to_text(html):
    """(text, links): the readable text of html and the URLs its numbered links point to."""
    converter = TextConverter()
    converter.feed(html or "")
    converter.close()
    return converter.text(), list(converter.links)

"""Custom field keys: what a CSV column becomes, as the author wrote it.

A key keeps its case ("Stadt" stays "Stadt") so the placeholder the author writes,
`{{ custom.Stadt }}`, is the key they see; placeholders also match keys whatever their
case (newsletter.rendering.placeholders), so older lower-cased keys keep working.
"""

import re


def custom_field_key(column):
    """A placeholder-safe key for a column: "Postal code" -> "Postal_code"."""
    key = re.sub(r"\W+", "_", column.strip()).strip("_")
    if not key or key[0].isdigit():
        key = f"field_{key}".rstrip("_")
    return key


def placeholder_for(key):
    """The placeholder an author writes for the key."""
    return "{{ custom." + key + " }}"

"""A worker process's cache of what it made from an issue (its rendering, its SMTP
skeleton, its merge form), kept while the issue stays as it was and shared by the
process's threads."""

import threading


class IssueCache:
    """One value per issue, made again when the issue's version key changes.

    A worker sends one issue at a time, seldom a few: the oldest issue goes once
    `max_issues` are kept, so a long-lived worker's memory stays flat.
    """

    def __init__(self, max_issues=4):
        self.lock = threading.Lock()
        self.max_issues = max_issues
        self.entries = {}  # issue id -> (version, value), oldest first

    def get(self, issue_id, version, make):
        """The issue's value for `version`, from `make()` when there is none yet."""
        with self.lock:
            entry = self.entries.get(issue_id)
            if entry is None or entry[0] != version:
                entry = (version, make())
                self.entries.pop(issue_id, None)
                self.entries[issue_id] = entry
                while len(self.entries) > self.max_issues:
                    del self.entries[next(iter(self.entries))]
            return entry[1]

    def clear(self):
        with self.lock:
            self.entries.clear()

"""A worker process's cache of what it made from an issue (its rendering, its SMTP
skeleton, its merge form), kept while the issue stays as it was and shared by the
process's threads."""

import threading


class IssueCache:
    """One value per issue, made again when the issue's version key changes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries = {}  # issue id -> (version, value)

    def get(self, issue_id, version, make):
        """The issue's value for `version`, from `make()` when there is none yet."""
        with self.lock:
            entry = self.entries.get(issue_id)
            if entry is None or entry[0] != version:
                entry = (version, make())
                self.entries[issue_id] = entry
            return entry[1]

    def clear(self):
        with self.lock:
            self.entries.clear()

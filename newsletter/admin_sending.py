"""Admin parts of the sending engine (issue #5): send, schedule, pause, resume, cancel,
retry failed, send a test, live progress. The IssueAdmin in admin.py mixes this in."""


class SendingAdminMixin:
    pass

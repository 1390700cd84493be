"""Django's SMTP backend for the mails sent one at a time (confirmation, welcome, admin
mails): DKIM-signed by the same signer as the sending engine, with a Date in a real zone,
a Message-ID on MAIL_DOMAIN and an 8-bit body announced as such."""

import smtplib
from email.utils import make_msgid

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import sanitize_address

from newsletter.sending import emails
from newsletter.sending.smtp import dkim
from newsletter.sending.smtp.connection import mail_options


def wire_bytes(email_message):
    """The message's bytes, with Django's defaults for Date ("-0000", zone unknown) and
    Message-ID (the machine's host name) replaced where the sender set neither."""
    mime = email_message.message()
    if "Date" not in email_message.extra_headers:
        mime.replace_header("Date", emails.mail_date())
    if "Message-ID" not in email_message.extra_headers:
        mime.replace_header("Message-ID", make_msgid(domain=settings.MAIL_DOMAIN))
    return mime.as_bytes(linesep="\r\n")


class SMTPEmailBackend(EmailBackend):
    def _send(self, email_message):
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        sender = sanitize_address(email_message.from_email, encoding)
        recipients = [sanitize_address(addr, encoding) for addr in email_message.recipients()]
        raw = dkim.sign(wire_bytes(email_message), sender)
        try:
            self.connection.ehlo_or_helo_if_needed()
            options = mail_options(self.connection, raw, utf8=False)
            self.connection.sendmail(sender, recipients, raw, mail_options=options)
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True

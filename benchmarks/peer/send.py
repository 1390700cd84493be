"""Peer driver, run inside the peer venv: `python send.py migrate|seed N|send BODY_FILE`.

`send` prints one JSON line: how many readers the submission had and how long
Submission.submit() took (the loop behind django-newsletter's submit_newsletter
command: it renders and sends one mail per reader, each on a new SMTP connection).
"""

import json
import os
import sys
import time
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from newsletter.models import Article, Message, Newsletter, Submission, Subscription  # noqa: E402


def migrate():
    call_command("migrate", "--no-input", verbosity=0)


def seed(count):
    """Empty the peer's tables, then one newsletter with `count` subscribed readers."""
    Submission.objects.all().delete()
    Message.objects.all().delete()
    Subscription.objects.all().delete()
    Newsletter.objects.all().delete()
    newsletter = Newsletter.objects.create(
        title="Benchmark Weekly",
        slug="bench",
        email="weekly@bench.example.test",
        sender="Benchmark Weekly",
    )
    Subscription.objects.bulk_create(
        (
            Subscription(
                newsletter=newsletter,
                name_field=f"Reader {number}",
                email_field=f"reader{number}@example.test",
                subscribed=True,
            )
            for number in range(1, count + 1)
        ),
        batch_size=5000,
    )
    print(json.dumps({"seeded": Subscription.objects.filter(subscribed=True).count()}))


def send(body_file):
    """Create the message and submission, then time the sending loop."""
    newsletter = Newsletter.objects.get(slug="bench")
    message = Message.objects.create(
        title="This month at Benchmark Weekly",
        slug=f"issue-{time.time_ns()}",
        newsletter=newsletter,
    )
    with open(body_file, encoding="utf-8") as body:
        Article.objects.create(post=message, title="This month", text=body.read())
    submission = Submission.from_message(message)
    submission.publish_date = timezone.now() - timedelta(seconds=1)
    submission.prepared = True
    submission.save()
    readers = len(submission.get_subscriptions())
    started, cpu_started = time.monotonic(), time.process_time()
    submission.submit()
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu_started
    print(json.dumps({"readers": readers, "seconds": seconds, "cpu_seconds": cpu}))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "migrate":
        migrate()
    elif command == "seed":
        seed(int(sys.argv[2]))
    elif command == "send":
        send(sys.argv[2])

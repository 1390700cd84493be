"""`manage.py check --deploy`: the suppression list must have a hash key of its own."""

from django.conf import settings
from django.core import checks

HINT = (
    "Set SUPPRESSION_HASH_KEY to 50+ random characters, different from SECRET_KEY: "
    "python -c 'import secrets; print(secrets.token_urlsafe(50))'. Entries made so far "
    "were hashed with the old key: put it in SUPPRESSION_HASH_KEY_FALLBACKS."
)


@checks.register(checks.Tags.security, deploy=True)
def check_suppression_hash_key(app_configs, **kwargs):
    """Report a suppression hash key that would change together with SECRET_KEY."""
    if not settings.SUPPRESSION_HASH_KEY:
        return [
            checks.Error(
                "SUPPRESSION_HASH_KEY is not set, so suppressed addresses are hashed with "
                "SECRET_KEY: rotating SECRET_KEY would empty the suppression list.",
                hint=HINT,
                id="subscribers.E001",
            )
        ]
    if settings.SUPPRESSION_HASH_KEY == settings.SECRET_KEY:
        return [
            checks.Warning(
                "SUPPRESSION_HASH_KEY equals SECRET_KEY: whoever learns one knows both, and "
                "the hashes of suppressed addresses can be tested against guessed addresses.",
                hint=HINT,
                id="subscribers.W001",
            )
        ]
    return []

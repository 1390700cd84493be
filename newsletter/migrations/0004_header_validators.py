import subscribers.validation
from django.db import migrations, models
from django.db.models import Q

# Control characters and line separators as literal characters (NUL aside: PostgreSQL
# cannot store it), for the database's own regular expressions.
NOT_ONE_LINE = "[\x01-\x1f\x7f-\x9f\u2028\u2029]"
HEADER_FIELDS = {
    "Newsletter": ("name", "from_name", "welcome_subject"),
    "Issue": ("subject", "preview_text"),
}


def repair_header_fields(apps, schema_editor):
    """Text stored before the rule made every mail of an issue fail: make it one line."""
    for model_name, fields in HEADER_FIELDS.items():
        model = apps.get_model("newsletter", model_name)
        for field in fields:
            broken = model.objects.filter(Q(**{f"{field}__regex": NOT_ONE_LINE}))
            for pk, value in broken.values_list("pk", field).iterator():
                model.objects.filter(pk=pk).update(
                    **{field: subscribers.validation.one_line(value)}
                )


class Migration(migrations.Migration):

    dependencies = [
        ('newsletter', '0003_delivery_provider'),
    ]

    operations = [
        migrations.AlterField(
            model_name='issue',
            name='preview_text',
            field=models.CharField(blank=True, help_text='Shown in the inbox.', max_length=200, validators=[subscribers.validation.validate_single_line], verbose_name='preview text'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='subject',
            field=models.CharField(max_length=200, validators=[subscribers.validation.validate_single_line], verbose_name='subject'),
        ),
        migrations.AlterField(
            model_name='newsletter',
            name='from_name',
            field=models.CharField(max_length=200, validators=[subscribers.validation.validate_single_line], verbose_name='sender name'),
        ),
        migrations.AlterField(
            model_name='newsletter',
            name='name',
            field=models.CharField(max_length=200, validators=[subscribers.validation.validate_single_line], verbose_name='name'),
        ),
        migrations.AlterField(
            model_name='newsletter',
            name='welcome_subject',
            field=models.CharField(blank=True, max_length=200, validators=[subscribers.validation.validate_single_line], verbose_name='welcome subject'),
        ),
        migrations.RunPython(repair_header_fields, migrations.RunPython.noop),
    ]

import subscribers.validation
from django.db import migrations, models
from django.db.models import Q

# Control characters and line separators as literal characters (NUL aside: PostgreSQL
# cannot store it), for the database's own regular expressions.
NOT_ONE_LINE = "[\x01-\x1f\x7f-\x9f\u2028\u2029]"


def repair_names(apps, schema_editor):
    """Names stored before the rule broke every mail to their reader: make them one line."""
    Subscriber = apps.get_model("subscribers", "Subscriber")
    broken = Subscriber.objects.filter(Q(name__regex=NOT_ONE_LINE)).only("pk", "name")
    for subscriber in broken.iterator():
        Subscriber.objects.filter(pk=subscriber.pk).update(
            name=subscribers.validation.one_line(subscriber.name)
        )


class Migration(migrations.Migration):

    dependencies = [
        ('subscribers', '0002_import_job'),
    ]

    operations = [
        migrations.AlterField(
            model_name='subscriber',
            name='name',
            field=models.CharField(blank=True, max_length=200, validators=[subscribers.validation.validate_single_line], verbose_name='name'),
        ),
        migrations.RunPython(repair_names, migrations.RunPython.noop),
    ]

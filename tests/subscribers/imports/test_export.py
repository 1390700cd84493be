import csv
import io

import pytest

from subscribers.export import export_rows, safe_cell
from subscribers.models import Subscription

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tx"])
def test_formula_like_cells_are_neutralised(value):
    assert safe_cell(value) == "'" + value


def test_the_export_lists_the_newsletters_subscribers_safely(newsletter, make_subscription):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    subscription.subscriber.name = "=cmd|' /C calc'!A0"
    subscription.subscriber.custom_fields = {"city": "Köln"}
    subscription.subscriber.save()
    rows = list(csv.reader(io.StringIO("".join(export_rows(Subscription.objects.all())))))
    assert rows[0][:3] == ["email", "name", "status"]
    assert rows[1][0] == "reader@example.org"
    assert rows[1][1].startswith("'=")
    assert rows[1][2] == "confirmed"
    assert rows[1][-1] == '{"city": "Köln"}'

"""Fill each order line's stored delivery state (orders 0010) from its batches, as
delivery.ontime.line_state_recompute does, in one statement: the batches grouped per line, joined to the lines
(UPDATE ... FROM: PostgreSQL, and SQLite from 3.33). A correlated sum per line would be scanned per line by a planner
without statistics (right after a restore), and Django's bulk_update writes 150,000 lines in minutes."""

from django.db import migrations

FILL = """
UPDATE orders_orderline
SET planned_quantity = sums.planned, delivered_quantity = sums.delivered, next_batch_due = sums.next_due
FROM (
    SELECT line_id,
           SUM(quantity) AS planned,
           SUM(delivered_quantity) AS delivered,
           MIN(CASE WHEN delivered_quantity < quantity THEN due_date END) AS next_due
    FROM delivery_deliverybatch
    GROUP BY line_id
) AS sums
WHERE orders_orderline.id = sums.line_id
"""


def fill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FILL)


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0010_batch_line_quantity_index"),
        ("orders", "0010_line_delivery_state"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]

from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=10, max_retries=5)
def notify_departments(order_id: int, departments: list[str], kind: str) -> int:
    from orders.notify import send_notifications

    return send_notifications(order_id, departments, kind)

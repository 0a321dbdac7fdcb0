"""The worker's side of attachments: each upload made safe, away from the request."""

from django.tasks import task

from attachments import services


@task(queue_name="images")
def attachment_process(*, attachment_id: int) -> str | None:
    return services.attachment_process(attachment_id=attachment_id)

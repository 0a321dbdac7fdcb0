"""What moves the members' version on (``core.sessionuser``): anything a member's pages show as theirs.

Saved or deleted through the ORM one row at a time; the services that
write such rows in bulk or with ``update()`` call ``sessionuser.invalidate``
themselves (notifications created and read, posts deleted).
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import PhysicianProfile, User
from core import sessionuser
from forum.models import Answer, Follow, Question, Reply, Thanks
from notifications.models import Notification


@receiver([post_save, post_delete], sender=User)
@receiver([post_save, post_delete], sender=PhysicianProfile)
@receiver([post_save, post_delete], sender=Notification)
@receiver([post_save, post_delete], sender=Question)
@receiver([post_save, post_delete], sender=Answer)
@receiver([post_save, post_delete], sender=Reply)
@receiver([post_save, post_delete], sender=Thanks)
@receiver([post_save, post_delete], sender=Follow)
def members_state_changed(**kwargs):
    sessionuser.invalidate()

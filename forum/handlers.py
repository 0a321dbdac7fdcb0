"""Changes made outside the forum's services that still show on its pages.

Topics and tags (edited in the admin) and physicians' profiles (title,
hospital and department beside every answer, changed by the physician, by
the moderators' decisions or in the admin) appear on the pages visitors get
from the cache; saving or deleting one moves the forum's version on.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import PhysicianProfile
from forum import listcache
from forum.models import Category, Tag


@receiver([post_save, post_delete], sender=Category)
@receiver([post_save, post_delete], sender=Tag)
@receiver([post_save, post_delete], sender=PhysicianProfile)
def forum_pages_changed(**kwargs):
    listcache.invalidate()

"""Changes made outside the forum's services that still show on its pages.

Topics and tags (edited in the admin), physicians' profiles (title,
discipline, hospital and department beside every answer, changed by the
physician, by the moderators' decisions or in the admin), the disciplines'
names (edited in the admin) and people's names (changed on their profile,
in the admin, or gone with a deleted account) appear on the pages visitors
get from the cache; saving one moves the forum's version on, as does a
change to a physician's specialties.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from accounts.models import Discipline, PhysicianProfile, User
from forum import listcache
from forum.models import Category, Tag


@receiver([post_save, post_delete], sender=Category)
@receiver([post_save, post_delete], sender=Tag)
@receiver([post_save, post_delete], sender=PhysicianProfile)
@receiver([post_save, post_delete], sender=Discipline)
def forum_pages_changed(**kwargs):
    listcache.invalidate()


@receiver(m2m_changed, sender=PhysicianProfile.specialties.through)
def specialties_changed(action, **kwargs):
    # Beside each physician on the home page, and what waits for them on theirs.
    if action in ("post_add", "post_remove", "post_clear"):
        listcache.invalidate()


# What of a person the forum's pages show: the name, or "Former member".
SHOWN_OF_A_USER = {"name", "deleted_at", "is_active"}


@receiver(post_save, sender=User)
def person_changed(update_fields=None, **kwargs):
    # Signing in saves last_login alone, and must not empty every cache.
    if update_fields is None or SHOWN_OF_A_USER & set(update_fields):
        listcache.invalidate()

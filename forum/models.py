from django.db import models
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class LocalizedNameMixin:
    """Show the Chinese name to Chinese readers when there is one."""

    @property
    def label(self) -> str:
        if self.name_zh and (get_language() or "").startswith("zh"):
            return self.name_zh
        return self.name

    @property
    def blurb(self) -> str:
        description_zh = getattr(self, "description_zh", "")
        if description_zh and (get_language() or "").startswith("zh"):
            return description_zh
        return getattr(self, "description", "")


class Category(LocalizedNameMixin, models.Model):
    """A forum section by tumour location; also a physician's specialty."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=80, blank=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    description_zh = models.TextField(_("Chinese description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.label

    def get_absolute_url(self):
        return reverse("forum:category-detail", args=[self.slug])


class Tag(LocalizedNameMixin, models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=40, blank=True)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.label

    def get_absolute_url(self):
        return reverse("forum:tag-detail", args=[self.slug])

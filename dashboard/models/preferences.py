"""What a user chose for how the dashboard looks to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Preferences(models.Model):
    class Theme(models.TextChoices):
        SYSTEM = "system", "System"
        LIGHT = "light", "Light"
        DARK = "dark", "Dark"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    theme = models.CharField(max_length=10, choices=Theme.choices, default=Theme.SYSTEM)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"{self.user}: {self.theme} theme"


def theme_of(user: object) -> str:
    """The user's theme (`system` until they choose): one query, none for anonymous visitors."""
    if not getattr(user, "is_authenticated", False):
        return Preferences.Theme.SYSTEM
    chosen = Preferences.objects.filter(user=user).values_list("theme", flat=True).first()
    return chosen or Preferences.Theme.SYSTEM

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from common.admin import CapabilityAdmin


@admin.register(User)
class UserAdmin(CapabilityAdmin, BaseUserAdmin):
    edit_capability = "user.manage"  # the administration department, as on the app's pages
    fieldsets = BaseUserAdmin.fieldsets + ((_("Preferences"), {"fields": ("language",)}),)
    list_display = ("username", "first_name", "last_name", "email", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "groups")

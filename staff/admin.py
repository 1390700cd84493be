"""The admin log as a read-only audit trail: who changed, exported or erased what, and when."""

from django.contrib import admin
from django.contrib.admin.models import LogEntry

from staff.read_only import ReadOnlyAdminMixin


@admin.register(LogEntry)
class AuditTrailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("action_time", "user", "content_type", "object_repr", "action_flag", "message")
    list_filter = ("action_flag", "content_type", "user")
    search_fields = ("object_repr", "change_message")
    date_hierarchy = "action_time"
    list_select_related = ("user", "content_type")
    show_full_result_count = False

    @admin.display(description=LogEntry._meta.get_field("change_message").verbose_name)
    def message(self, obj):
        return obj.get_change_message()

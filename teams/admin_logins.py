"""The admin of django-axes' failed logins and lock-outs, in the reader's language: the
columns axes leaves unnamed (a method's name, "Status"), its count of attempts left and its
clean-up message, which it writes as English f-strings. Its clean-up action also failed
(500) on an admin request, which lacks the attempt time axes' login path gives a request."""

from axes import admin as axes_admin
from axes.conf import settings
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    @admin.action(description=_("Clean up expired attempts"))
    def cleanup_expired_attempts(self, request, queryset):
        AxesProxyHandler.update_request(request)  # the attempt time the cool-off counts from
        count = self.handler.clean_expired_user_attempts(request=request)
        self.message_user(request, ngettext(
            "%(count)d expired access attempt cleaned up.",
            "%(count)d expired access attempts cleaned up.", count) % {"count": count})

    @admin.display(description=_("expires at"))
    def expiration(self, obj):
        return super().expiration(obj)

    @admin.display(description=_("status"))
    def status(self, obj):
        left = settings.AXES_FAILURE_LIMIT - obj.failures_since_start
        if left <= 0:
            return _("Locked Out")
        return ngettext("%(count)d attempt left", "%(count)d attempts left", left) % {"count": left}


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, AccessAttemptAdmin)

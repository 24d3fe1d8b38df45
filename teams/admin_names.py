"""Names the admin shows in the reader's language where Django and its add-ons give them
in English or after a class.

Django stores a permission's name in English when the migrations run ("Can add historical
team") and shows it as stored; django-simple-history names its audit models "historical …"
or after their class ("HistoricalEntryHousehold"), in English too. The permission picker of
the User and Group admins shows each permission again from what it is: its app, its model
and its action, each translated. The delete page lists the rows of a many-to-many field's
hidden table as "Group_permissions object (1)": those links go with the object, and the
list leaves them out.
"""

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group, Permission
from django.forms import ModelMultipleChoiceField
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "add": _("Can add %(name)s"),
    "change": _("Can change %(name)s"),
    "delete": _("Can delete %(name)s"),
    "view": _("Can view %(name)s"),
}


def model_name(model):
    """A model's name as a person reads it; an audit model's as the history of its model."""
    followed = getattr(model, "instance_type", None)  # simple-history's audit models
    if followed is not None:
        return _("history of %(name)s") % {"name": model_name(followed)}
    owner = model._meta.auto_created  # the hidden table of a many-to-many field
    if owner:
        field = next(f for f in owner._meta.many_to_many if f.remote_field.through is model)
        return _("%(model)s's %(field)s") % {
            "model": owner._meta.verbose_name, "field": field.verbose_name}
    return model._meta.verbose_name


def permission_label(permission):
    """"App | model | action", as Django lays it out, each part translated."""
    model = permission.content_type.model_class()
    if model is None:  # a model since removed, its permission left behind
        return str(permission)
    action, _sep, model_part = permission.codename.partition("_")
    name = model_name(model)
    if action in ACTIONS and model_part == model._meta.model_name:
        what = ACTIONS[action] % {"name": name}
    else:
        what = gettext(permission.name)  # a model's own permission, translated in our catalogue
    return f"{model._meta.app_config.verbose_name} | {name} | {what}"


class PermissionChoiceField(ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return permission_label(obj)


class TranslatedPermissionsMixin:
    """For a ModelAdmin with a `permissions` or `user_permissions` picker."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.remote_field.model is Permission:
            kwargs["form_class"] = PermissionChoiceField
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _link_tables():
    return [model for model in apps.get_models(include_auto_created=True) if model._meta.auto_created]


def _without_links(items, prefixes):
    kept = []
    for item in items:
        if isinstance(item, list):
            item = _without_links(item, prefixes)
            if item:
                kept.append(item)
        elif not str(item).startswith(prefixes):
            kept.append(item)
    return kept


class DeletesLinksQuietlyMixin:
    """For a ModelAdmin whose model has many-to-many fields, or is the target of one."""

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        links = _link_tables()
        prefixes = tuple(f"{capfirst(model._meta.verbose_name)}: " for model in links)
        plurals = {str(model._meta.verbose_name_plural) for model in links}
        model_count = {name: count for name, count in model_count.items() if str(name) not in plurals}
        return _without_links(to_delete, prefixes), model_count, perms_needed, protected


class GroupAdmin(TranslatedPermissionsMixin, DeletesLinksQuietlyMixin, DjangoGroupAdmin):
    pass


if admin.site.is_registered(Group):
    admin.site.unregister(Group)
admin.site.register(Group, GroupAdmin)

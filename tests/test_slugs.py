"""Slugs from Chinese names: a village, an area, an organisation or a team added in the admin
with its slug left blank gets the pinyin of its name, a second of the same name a suffix, and
a slug typed in is kept."""

from datetime import date

import pytest
from django.urls import reverse

from teams.models import Area, Organisation, Team, Village
from teams.slugs import slug_from

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com"))
    return client


@pytest.fixture
def township():
    return Area.objects.create(name="博尔通古牧场", slug="boertonggu", kind=Area.Kind.TOWNSHIP)


def add_village(client, area, name, slug=""):
    return client.post(reverse("admin:teams_village_add"), {
        "name": name, "name_en": "", "slug": slug, "kind": Village.Kind.BRIGADE, "area": area.pk,
    })


def test_a_village_added_with_a_blank_slug_is_spelled_in_pinyin(admin_client, township):
    response = add_village(admin_client, township, "开干齐")

    assert response.status_code == 302
    assert Village.objects.get(name="开干齐").slug == "kaiganqi"


def test_a_second_village_of_the_same_name_gets_a_suffix(admin_client, township):
    add_village(admin_client, township, "开干齐")
    add_village(admin_client, township, "开干齐")
    add_village(admin_client, township, "开干齐")

    slugs = Village.objects.filter(name="开干齐").order_by("pk").values_list("slug", flat=True)
    assert list(slugs) == ["kaiganqi", "kaiganqi-2", "kaiganqi-3"]


def test_a_slug_typed_in_is_kept(admin_client, township):
    add_village(admin_client, township, "开干齐", slug="kgq")

    assert Village.objects.get(name="开干齐").slug == "kgq"


def test_a_slug_typed_in_that_is_taken_is_refused_not_changed(admin_client, township):
    add_village(admin_client, township, "开干齐")
    response = add_village(admin_client, township, "开干齐", slug="kaiganqi")

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["slug"]
    assert Village.objects.filter(name="开干齐").count() == 1


def test_the_add_page_says_the_slug_may_be_left_blank(admin_client):
    page = admin_client.get(reverse("admin:teams_village_add")).content.decode()

    assert "留空" in page


def test_saving_a_renamed_village_keeps_its_slug(admin_client, township):
    add_village(admin_client, township, "开干齐")
    village = Village.objects.get()
    admin_client.post(reverse("admin:teams_village_change", args=[village.pk]), {
        "name": "开干齐队", "name_en": "", "slug": village.slug, "kind": village.kind,
        "area": township.pk,
    })

    village.refresh_from_db()
    assert (village.name, village.slug) == ("开干齐队", "kaiganqi")


def test_trees_and_teams_fill_their_slugs_too(admin_client, township):
    admin_client.post(reverse("admin:teams_organisation_add"), {"name": "第八师石河子市", "slug": ""})
    admin_client.post(reverse("admin:teams_area_add"), {
        "name": "沙湾县", "slug": "", "kind": Area.Kind.COUNTY, "code": "",
    })
    division = Organisation.objects.get(name="第八师石河子市")
    village = Village.objects.create(name="开干齐", slug="kaiganqi", area=township)
    admin_client.post(reverse("admin:teams_team_add"), {
        "name": "开干齐队工作队", "name_en": "", "slug": "", "organisation": division.pk,
        "village": village.pk, "starts_on": "2017-01-01", "ends_on": "",
        "memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0,
    })

    assert division.slug == "dibashishihezishi" and division.path == "dibashishihezishi/"
    assert Area.objects.get(name="沙湾县").slug == "shawanxian"
    assert Team.objects.get().slug == "kaiganqiduigongzuodui"
    assert Team.objects.get().starts_on == date(2017, 1, 1)


@pytest.mark.parametrize(("name", "slug"), [
    ("绿洲村", "lvzhoucun"),  # ü written v, as pinyin input does: the slug stays ASCII
    ("开干齐2队", "kaiganqi-2-dui"),
    ("Team 开干齐", "team-kaiganqi"),
    ("★", "village"),  # nothing to spell: the model's name
])
def test_names_of_every_kind_give_an_ascii_slug(name, slug):
    assert slug_from(name, Village) == slug


def test_a_long_name_is_cut_to_the_field_and_its_suffix_still_fits(township):
    name = "新疆维吾尔自治区塔城地区沙湾县博尔通古牧场开干齐队"
    first = slug_from(name, Village)
    Village.objects.create(name=name, slug=first, area=township)
    second = slug_from(name, Village)

    assert len(first) == 50 and len(second) <= 50
    assert second.endswith("-2") and second != first

"""Demo users, one per role, all with the password "demo" (DEMO_MODE only)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.roles import Dept
from accounts.services import departments_sync

DEMO_PASSWORD = "demo"

# username -> (departments, first name, last name)
DEMO_USERS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "admin": ((Dept.ADMIN,), "Ada", "Admin"),
    "marketing": ((Dept.MARKETING,), "李", "明"),
    "head": ((Dept.MARKETING_HEAD, Dept.MARKETING), "王", "强"),
    "product": ((Dept.PRODUCT,), "陈", "静"),
    "cs": ((Dept.CS,), "张", "丽"),
    "tech": ((Dept.TECH,), "刘", "伟"),
    "pmc": ((Dept.PMC,), "杨", "帆"),
    "qa": ((Dept.QA,), "赵", "敏"),
    "warehouse": ((Dept.WAREHOUSE,), "黄", "涛"),
    "customs": ((Dept.CUSTOMS,), "周", "洁"),
    "rep": ((Dept.MGMT_REP,), "吴", "刚"),
}


def seed_users() -> dict[str, object]:
    departments_sync()
    User = get_user_model()
    users = {}
    for username, (depts, first, last) in DEMO_USERS.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            if username == "admin":
                user.is_staff = True
                user.is_superuser = True
            user.save()
            user.groups.set(Group.objects.filter(name__in=depts))
        users[username] = user
    return users

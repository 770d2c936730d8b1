"""Demo data: the two homes, their staff roster and the names residents are admitted under."""

from dataclasses import dataclass

from accounts.models import Role

MAPLE = "Maple Grove Assisted Living"
CEDAR = "Cedar House Group Home"

# username, first, last, title, role, facilities, medication-aide expiry in days (None: no cert)
STAFF = [
    ("admin", "Alex", "Morgan", "Administrator", Role.ADMIN, [MAPLE], None),
    ("nurse", "Nina", "Patel", "RN", Role.NURSE, [MAPLE], None),
    ("nurse2", "Omar", "Haddad", "LPN", Role.NURSE, [MAPLE], None),
    ("medtech", "Maria", "Lopez", "CMA", Role.MED_TECH, [MAPLE], 400),
    ("medtech3", "Jordan", "Lee", "CMA", Role.MED_TECH, [MAPLE], 10),
    ("medtech2", "Sam", "Okafor", "CMA", Role.MED_TECH, [CEDAR], 300),
    ("caregiver", "Casey", "Nguyen", "Caregiver", Role.CAREGIVER, [MAPLE], None),
    ("cedaradmin", "Chris", "Walker", "Administrator", Role.ADMIN, [CEDAR], None),
    ("cedarnurse", "Grace", "Kim", "RN", Role.NURSE, [CEDAR], None),
]
# A medication aide certificate this close to its end shows the "expires soon" notice.
EXPIRING_SOON_DAYS = 30


@dataclass(frozen=True)
class DemoLogin:
    """One demo login as the README, the login page, the banner and `make run` list it."""

    username: str
    name: str
    role: str
    facility: str
    note: str = ""


def demo_logins() -> list[DemoLogin]:
    return [
        DemoLogin(
            username=username,
            name=f"{first} {last}",
            role=Role(role).label,
            facility=", ".join(where),
            note=(
                f"medication aide certification expires in {aide_days} days"
                if aide_days is not None and aide_days <= EXPIRING_SOON_DAYS
                else ""
            ),
        )
        for username, first, last, _title, role, where, aide_days in STAFF
    ]


LOGINS_HEADING = "Demo logins"


def login_lines(password: str) -> list[str]:
    """The logins as `seed_demo` ends its output (and `make run` repeats them at its end)."""
    logins = demo_logins()
    width = max(len(login.username) for login in logins) + 2
    return [
        f"{LOGINS_HEADING} (password for all: {password}):",
        *(
            f"  {login.username:<{width}}{login.role}, {login.facility}"
            + (f" ({login.note})" if login.note else "")
            for login in logins
        ),
    ]


FIRST = [
    "Dorothy",
    "Harold",
    "Betty",
    "Walter",
    "Margaret",
    "Eugene",
    "Shirley",
    "Frank",
    "Ruth",
    "George",
    "Helen",
    "Arthur",
    "Joan",
    "Raymond",
    "Lois",
    "Donald",
    "Marjorie",
    "Kenneth",
    "Evelyn",
    "Richard",
    "Gloria",
    "Ronald",
    "Alice",
    "Howard",
    "Norma",
    "Ralph",
    "Irene",
    "Carl",
    "Virginia",
    "Earl",
    "Beatrice",
    "Lloyd",
    "Mildred",
    "Clarence",
    "Florence",
    "Vernon",
    "Edna",
    "Stanley",
    "Pearl",
    "Louis",
    "Hazel",
    "Leonard",
    "Doris",
    "Albert",
]
LAST = [
    "Abbott",
    "Bennett",
    "Carver",
    "Dawson",
    "Ellison",
    "Fletcher",
    "Garrison",
    "Holloway",
    "Ingram",
    "Jennings",
    "Keller",
    "Lawson",
    "Merritt",
    "Norwood",
    "Osborne",
    "Pruitt",
    "Quinn",
    "Ramsey",
    "Sutton",
    "Thornton",
    "Underwood",
    "Vaughn",
    "Whitaker",
    "Yates",
    "Zimmerman",
    "Ashford",
    "Blake",
    "Crawford",
    "Donovan",
    "Everett",
    "Fairbanks",
    "Gaines",
    "Hensley",
    "Irwin",
    "Jarvis",
    "Kimball",
    "Lyons",
    "Monroe",
    "Nash",
    "Oakley",
    "Parrish",
    "Redding",
    "Sinclair",
    "Talbot",
]
PREFERRED = {"Margaret": "Peggy", "Richard": "Dick", "Dorothy": "Dot", "Raymond": "Ray"}
ALLERGENS = [
    ("Penicillin", "hives", "moderate"),
    ("Sulfa drugs", "rash", "mild"),
    ("Codeine", "nausea and vomiting", "moderate"),
    ("Aspirin", "wheezing", "severe"),
    ("Latex", "contact dermatitis", "mild"),
    ("Lisinopril", "angioedema", "severe"),
]
PHYSICIANS = [
    ("Dr. Rebecca Hayes", "(555) 201-4410"),
    ("Dr. Samuel Ortiz", "(555) 201-7782"),
    ("Dr. Karen Liu", "(555) 388-1203"),
]
PHARMACIES = ["Riverside Long-Term Care Pharmacy", "Main Street Pharmacy"]

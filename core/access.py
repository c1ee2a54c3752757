"""Who may do what: roles, pages, capabilities and territories (pure; no Streamlit, no storage).

The product runs in one of two modes (:data:`LOCAL`, :data:`SERVER`, see :mod:`core.settings`):

- « Poste local »: one analyst on their own machine, no sign-in, listening on 127.0.0.1 only;
  the viewer is :meth:`Viewer.local_analyst`.
- « Serveur »: every page behind sign-in (OpenID Connect), except the public pages when the
  configuration opens them; each signed-in person has one role and a territory, kept in the
  access database (:mod:`data.access`).

The server decides: a page a role may not use is left out of the navigation *and* refuses to
run (:meth:`Viewer.may_open`); the audience (published or internal view) comes from the role,
not from a widget (:meth:`Viewer.audience`).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.privacy import Audience, View

LOCAL = "local"
SERVER = "serveur"

ADMIN = "administrateur"
ANALYST = "analyste"
REFERENT = "referent"
PREFET = "prefet"
MAYOR = "maire"
PUBLIC = "public"

ROLE_LABELS = {
    ADMIN: "Administrateur",
    ANALYST: "Analyste",
    REFERENT: "Référent sûreté",
    PREFET: "Préfet / cabinet",
    MAYOR: "Maire (et police municipale)",
    PUBLIC: "Public",
}
#: Roles a person can be given on the Administration page (``public`` is nobody's role).
ASSIGNABLE_ROLES = (ADMIN, ANALYST, REFERENT, PREFET, MAYOR)

# Pages (their file stem under app_pages/).
DIAGNOSTIC, ZONES, VIDEO, SUIVI, ORGANISATION, DONNEES = (
    "diagnostic",
    "zones",
    "videoprotection",
    "suivi",
    "organisation",
    "donnees",
)
MA_COMMUNE, ADMINISTRATION, FRANCE = "ma_commune", "administration", "france"

PAGES_BY_ROLE: dict[str, tuple[str, ...]] = {
    ADMIN: (DIAGNOSTIC, ZONES, VIDEO, SUIVI, ORGANISATION, FRANCE, DONNEES, ADMINISTRATION),
    ANALYST: (DIAGNOSTIC, ZONES, VIDEO, SUIVI, ORGANISATION, FRANCE, DONNEES),
    REFERENT: (DIAGNOSTIC, ZONES, VIDEO),
    PREFET: (DIAGNOSTIC, ZONES, VIDEO, SUIVI, ORGANISATION, FRANCE, DONNEES),
    MAYOR: (MA_COMMUNE,),
    PUBLIC: (DIAGNOSTIC, SUIVI),
}

# Capabilities.
IMPORT = "import"  # import, append, replace or delete data sets, SSMSI and organisation files
INTERNAL_VIEW = "vue_interne"  # may switch the published view off
EXPORT = "export"
REPORT = "rapport"
PUBLISH_PROPOSAL = "publier_proposition"  # publish a camera-site proposal to a commune
MANAGE_PEOPLE = "administrer"
GENERATE = "generer"  # generate a synthetic data set

CAPABILITIES_BY_ROLE: dict[str, frozenset[str]] = {
    ADMIN: frozenset({IMPORT, INTERNAL_VIEW, EXPORT, REPORT, PUBLISH_PROPOSAL, MANAGE_PEOPLE, GENERATE}),
    ANALYST: frozenset({IMPORT, INTERNAL_VIEW, EXPORT, REPORT, PUBLISH_PROPOSAL, GENERATE}),
    REFERENT: frozenset({EXPORT, PUBLISH_PROPOSAL}),
    PREFET: frozenset({EXPORT, REPORT}),
    MAYOR: frozenset({EXPORT}),
    PUBLIC: frozenset(),
}


@dataclass(frozen=True)
class Viewer:
    """Who is looking, as the server knows them on this run.

    Attributes
    ----------
    role : str
        One of :data:`ROLE_LABELS`.
    identity : str
        E-mail (verified) or ``issuer|subject``; « poste local » or « public » otherwise.
    name : str
        Name shown in the sidebar and the audit log.
    departements : tuple of str
        Départements the person works on (empty: every département, local mode only).
    communes : tuple of str
        INSEE codes of a mayor's communes.
    """

    role: str
    identity: str
    name: str = ""
    departements: tuple[str, ...] = ()
    communes: tuple[str, ...] = ()

    @classmethod
    def local_analyst(cls) -> Viewer:
        """The one analyst of the « Poste local » mode: every page and département."""
        return cls(role=ANALYST, identity="poste local", name="Poste local")

    @classmethod
    def anonymous(cls) -> Viewer:
        """The public (server mode, public pages opened by the configuration)."""
        return cls(role=PUBLIC, identity="public", name="Public")

    @property
    def pages(self) -> tuple[str, ...]:
        return PAGES_BY_ROLE.get(self.role, ())

    def may_open(self, page: str) -> bool:
        """True when the role may use ``page`` (the page refuses to run otherwise)."""
        return page in self.pages

    def can(self, capability: str) -> bool:
        """True when the role has ``capability``."""
        return capability in CAPABILITIES_BY_ROLE.get(self.role, frozenset())

    def may_see_departement(self, code: str) -> bool:
        """True when ``code`` is in the person's territory (every one for an empty list)."""
        if self.role == MAYOR:
            return any(departement_of_commune(c) == code for c in self.communes)
        return not self.departements or code in self.departements

    def audience(self, *, internal_requested: bool = False) -> Audience:
        """The view the server gives: internal only when asked for *and* allowed."""
        if internal_requested and self.can(INTERNAL_VIEW):
            return Audience(View.INTERNAL)
        return Audience(View.PUBLISHED)


def departement_of_commune(code: str) -> str:
    """Département code of an INSEE commune code (2A/2B, overseas 97x included)."""
    code = str(code)
    return code[:3] if code.startswith("97") else code[:2]

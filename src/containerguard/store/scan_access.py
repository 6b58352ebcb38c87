"""Registry access handed over with one scan request (Harbor's scanner API): the registry URL, the
``Authorization`` header Harbor issued for the artifact, and the artifact as Harbor named it.

Kept in ``server_state`` under ``scan-access:<scan id>`` (no schema change), the header Fernet-encrypted
like registry passwords, so a scan retried or resumed after a restart can still pull.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass, field

from sqlalchemy.orm import Session

from containerguard.config import Settings
from containerguard.sources.base import SourceOptions

from .secrets import Cipher
from .tables import StateRow

PREFIX = "scan-access:"


@dataclass(frozen=True)
class ScanAccess:
    """How one scan reaches its registry, and what the requester called the artifact."""

    registry_url: str
    authorization: str = ""
    insecure: bool = False
    """Plain http (the URL's scheme) or unverified TLS."""
    artifact: dict[str, str] = field(default_factory=dict)
    """``repository``, ``digest``, ``tag``, ``mime_type`` as the request gave them (echoed in reports)."""

    def options(self, settings: Settings) -> SourceOptions:
        """Source options that send the header; Basic credentials are also kept as such, so a
        registry that challenges for a Bearer token gets them at its token endpoint."""
        username = password = ""
        scheme, _, value = self.authorization.strip().partition(" ")
        if scheme.lower() == "basic":
            try:
                username, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                username = password = ""
        return SourceOptions(insecure=self.insecure, username=username, password=password,
                             authorization=self.authorization.strip(), settings=settings)


def save_access(session: Session, cipher: Cipher, scan_id: str, access: ScanAccess) -> None:
    """Keep ``access`` for scan ``scan_id`` (the header encrypted)."""
    doc = asdict(access) | {"authorization": cipher.encrypt(access.authorization)}
    key = PREFIX + scan_id
    row = session.get(StateRow, key)
    if row is None:
        session.add(StateRow(key=key, value=json.dumps(doc)))
    else:
        row.value = json.dumps(doc)


def load_access(session: Session, cipher: Cipher, scan_id: str) -> ScanAccess | None:
    """The access kept for ``scan_id`` (None when the scan came with none)."""
    row = session.get(StateRow, PREFIX + scan_id)
    if row is None or not row.value:
        return None
    doc = json.loads(row.value)
    return ScanAccess(registry_url=str(doc.get("registry_url", "")),
                      authorization=cipher.decrypt(str(doc.get("authorization", ""))),
                      insecure=bool(doc.get("insecure", False)),
                      artifact={str(k): str(v) for k, v in (doc.get("artifact") or {}).items()})


def forget_authorization(session: Session, scan_id: str) -> None:
    """Drop the header of a finished scan (it is short-lived anyway); the artifact stays for reports."""
    row = session.get(StateRow, PREFIX + scan_id)
    if row is None or not row.value:
        return
    doc = json.loads(row.value)
    if doc.get("authorization"):
        row.value = json.dumps(doc | {"authorization": ""})
